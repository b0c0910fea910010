"""API keys: mint (the secret is shown once), authenticate by SHA-256, revoke."""

from __future__ import annotations

import secrets
import string
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam
from sqlmodel import Session, col, select

from app.clock import as_utc, utcnow
from app.crypto import sha256_hex
from app.errors import FieldError, Unauthorized, ValidationFailed, not_found
from app.models import SCOPES, Actor, ApiKey, Workspace
from app.repo import audit

KEY_PREFIX = "fdk_"
_ALPHABET = string.ascii_letters + string.digits
_BODY_LENGTH = 32
_CHECKSUM_LENGTH = 6
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 8


@dataclass(frozen=True)
class MintedKey:
    key: ApiKey
    secret: str


def _base62(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECKSUM_LENGTH)


def new_secret() -> str:
    """`fdk_` + 32 random base62 characters + a CRC32 checksum (typos fail without a lookup)."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(_BODY_LENGTH))
    return f"{KEY_PREFIX}{body}{_checksum(body)}"


def well_formed(secret: str) -> bool:
    if not secret.startswith(KEY_PREFIX):
        return False
    rest = secret[len(KEY_PREFIX):]
    if len(rest) != _BODY_LENGTH + _CHECKSUM_LENGTH:
        return False
    return _checksum(rest[:_BODY_LENGTH]) == rest[_BODY_LENGTH:]


def mint_api_key(session: Session, *, workspace_id: str, actor: Actor, name: str,
                 scopes: Sequence[str], expires_at: datetime | None = None,
                 allowed_ips: Sequence[str] | None = None) -> MintedKey:
    problems = [FieldError("scopes", f"unknown scope '{s}'") for s in scopes if s not in SCOPES]
    if not scopes:
        problems.append(FieldError("scopes", "at least one scope is required", "required"))
    if expires_at is not None and expires_at <= utcnow():
        problems.append(FieldError("expires_at", "must be in the future"))
    if problems:
        raise ValidationFailed("The API key is invalid", errors=problems)
    secret = new_secret()
    key = ApiKey(workspace_id=workspace_id, name=name.strip(), prefix=secret[:SHOWN_PREFIX_LENGTH],
                 secret_hash=sha256_hex(secret), scopes=sorted(set(scopes)),
                 created_by=actor.id if actor.type == "user" else None, expires_at=expires_at,
                 allowed_ips=list(allowed_ips) if allowed_ips else None)
    session.add(key)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="api_key.minted",
                 resource_type="api_key", resource_id=key.id, details={"scopes": key.scopes})
    session.commit()
    return MintedKey(key=key, secret=secret)


# Columns, not the ORM row: building an ApiKey instance on every API request cost as much as
# the query itself.
_KEY_AND_WORKSPACE = (
    select(ApiKey.id, ApiKey.prefix, ApiKey.workspace_id, ApiKey.scopes,  # type: ignore[call-overload]
           ApiKey.allowed_ips, ApiKey.last_used_at, ApiKey.expires_at, ApiKey.revoked_at,
           Workspace.rate_limit_read_per_min, Workspace.rate_limit_write_per_min)
    .join(Workspace, col(Workspace.id) == col(ApiKey.workspace_id))
    .where(col(ApiKey.secret_hash) == bindparam("b_hash"))
)


def authenticate(connection: Connection, secret: str, *,
                 now: datetime | None = None) -> Row[Any]:
    """The live key for a secret (id, prefix, workspace_id, scopes, allowed_ips, last_used_at)
    with its workspace's rate-limit overrides (rate_limit_read_per_min, …_write_per_min), in
    one query on a bare connection (a request's key lookup runs before its own transaction,
    and a `Session` around it costs more than the query); or Unauthorized (malformed,
    unknown, revoked or expired)."""
    if not secret or not well_formed(secret):
        raise Unauthorized("The API key is missing or malformed")
    row = connection.execute(_KEY_AND_WORKSPACE, {"b_hash": sha256_hex(secret)}).first()
    now = now or utcnow()
    if row is None:
        raise Unauthorized("The API key is not valid")
    if row.revoked_at is not None:
        raise Unauthorized("The API key was revoked")
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        raise Unauthorized("The API key has expired")
    return row


def revoke_api_key(session: Session, *, workspace_id: str, key_id: str, actor: Actor) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None or key.workspace_id != workspace_id:
        raise not_found("API key", key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        audit.record(session, workspace_id=workspace_id, actor=actor, action="api_key.revoked",
                     resource_type="api_key", resource_id=key.id)
        session.commit()
    return key


def list_api_keys(session: Session, *, workspace_id: str) -> Sequence[ApiKey]:
    query = (
        select(ApiKey)
        .where(ApiKey.workspace_id == workspace_id)
        .order_by(col(ApiKey.created_at).desc())
    )
    return session.exec(query).all()
