"""Who is calling the API: the live key behind a secret, with its workspace's limits, and a
throttled record of when each key was last used."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, update
from sqlmodel import Session, col

from app.clock import as_utc, utcnow
from app.db import get_engine, write_session
from app.errors import Forbidden, Unauthorized
from app.models import Actor, ApiKey
from app.services.api_keys import authenticate

# last_used_at is written at most this often per key, so reads stay reads.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class KeyGrant:
    """What an authenticated API key allows (detached from any session): its workspace and
    scopes, the addresses it may come from, its rate limits. Not who acts: `actor()` is."""

    key_id: str
    prefix: str
    workspace_id: str
    scopes: frozenset[str]
    allowed_ips: tuple[str, ...]
    read_limit_per_min: int | None
    write_limit_per_min: int | None
    last_used_at: datetime | None

    def actor(self, request_id: str | None = None) -> Actor:
        """Who acts when this key is used: the key, in its workspace, with its scopes."""
        return Actor.api_key(key_id=self.key_id, prefix=self.prefix,
                             workspace_id=self.workspace_id, scopes=self.scopes,
                             request_id=request_id)

    def needs_touch(self, now: datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION

    def ip_allowed(self, address: str | None) -> bool:
        """True without an allow-list; else the peer address must be in one of its networks."""
        if not self.allowed_ips:
            return True
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        for entry in self.allowed_ips:
            try:
                if peer in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def check_address(self, address: str | None) -> None:
        """Forbidden unless the key may be used from `address`."""
        if not self.ip_allowed(address):
            raise Forbidden("This API key may not be used from your IP address",
                            extra={"reason": "ip_not_allowed"})

    def check_scopes(self, scopes: Iterable[str]) -> None:
        """Forbidden, naming the first scope the key lacks, unless it holds them all."""
        wanted = tuple(scopes)
        missing = [scope for scope in wanted if scope not in self.scopes]
        if missing:
            raise Forbidden(f"This API key lacks the '{missing[0]}' scope",
                            extra={"missing_scope": missing[0], "required_scopes": list(wanted)})


def secret_of(headers: Mapping[str, str]) -> str | None:
    """The key a request carries (Authorization: Bearer first, then X-Api-Key); headers
    named in lower case, as ASGI has them."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("Use 'Authorization: Bearer <key>' (or the X-Api-Key header)")
        return value.strip()
    key = headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def grant_of_secret(secret: str) -> KeyGrant:
    """Blocking (database): the grant of a live key, or Unauthorized. Reads on a bare
    connection of its own, then at most once a minute writes last_used_at in a short
    session: it runs before the caller's own transaction, and a refused key writes nothing."""
    now = utcnow()
    with get_engine(write=False).connect() as connection:
        grant = grant_of_row(authenticate(connection, secret, now=now))
    if grant.needs_touch(now):
        with write_session() as session:
            record_key_use(session, key_id=grant.key_id, now=now)
    return grant


def grant_of_row(key: Row[Any]) -> KeyGrant:
    """The grant of a live key's row, as `authenticate` reads it."""
    return KeyGrant(
        key_id=key.id,
        prefix=key.prefix,
        workspace_id=key.workspace_id,
        scopes=frozenset(key.scopes or ()),
        allowed_ips=tuple(key.allowed_ips or ()),
        read_limit_per_min=key.rate_limit_read_per_min,
        write_limit_per_min=key.rate_limit_write_per_min,
        last_used_at=as_utc(key.last_used_at) if key.last_used_at else None,
    )


def record_key_use(session: Session, *, key_id: str, now: datetime) -> None:
    """Set last_used_at unless another request did so within the last minute."""
    stale = now - LAST_USED_RESOLUTION
    session.execute(
        update(ApiKey)
        .where(col(ApiKey.id) == key_id,
               col(ApiKey.last_used_at).is_(None) | (col(ApiKey.last_used_at) < stale))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
