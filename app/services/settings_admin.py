"""Settings use cases for signed-in members: API keys and credentials, role-checked and
shaped for pages (a key's secret is returned once, a credential's value never)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.clock import iso, utcnow
from app.errors import FieldError, ValidationFailed
from app.models import SCOPES, Actor, ApiKey, Credential, User
from app.repo import credentials as credentials_repo
from app.services import api_keys, credentials, permissions

EXPIRY_CHOICES = {"7": 7, "30": 30, "90": 90, "365": 365, "never": None}


@dataclass(frozen=True)
class KeyRow:
    id: str
    name: str
    prefix: str
    scopes: str
    created_at: str
    created_by: str
    last_used_at: str
    expires_at: str
    state: str  # active | expired | revoked


@dataclass(frozen=True)
class CredentialRow:
    id: str
    name: str
    type: str
    header: str
    created_by: str
    created_at: str


def _key_state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active"


def list_keys(session: Session, *, actor: Actor) -> list[KeyRow]:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    now = utcnow()
    emails: dict[str, str] = {}
    rows = []
    for key in api_keys.list_api_keys(session, workspace_id=actor.workspace_id):
        if key.created_by and key.created_by not in emails:
            user = session.get(User, key.created_by)
            emails[key.created_by] = user.email if user else key.created_by
        rows.append(KeyRow(id=key.id, name=key.name or "(unnamed)", prefix=key.prefix,
                           scopes=", ".join(key.scopes),
                           created_at=iso(key.created_at) or "",
                           created_by=emails.get(key.created_by or "", "cli"),
                           last_used_at=iso(key.last_used_at) or "",
                           expires_at=iso(key.expires_at) or "", state=_key_state(key, now)))
    return rows


def mint_key(session: Session, *, actor: Actor, name: str, scopes: Sequence[str],
             expiry: str) -> tuple[str, str]:
    """Mint a key; returns (key id, the secret). The secret is never retrievable again."""
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    problems = []
    if not name.strip():
        problems.append(FieldError("name", "give the key a name (who or what uses it)",
                                   "required"))
    if expiry not in EXPIRY_CHOICES:
        problems.append(FieldError("expiry", f"must be one of {', '.join(EXPIRY_CHOICES)}"))
    if problems:
        raise ValidationFailed("The API key is invalid", errors=problems)
    days = EXPIRY_CHOICES[expiry]
    minted = api_keys.mint_api_key(
        session, workspace_id=actor.workspace_id, actor=actor, name=name.strip(),
        scopes=[s for s in SCOPES if s in set(scopes)] or list(scopes),
        expires_at=utcnow() + timedelta(days=days) if days else None)
    return minted.key.id, minted.secret


def revoke_key(session: Session, *, actor: Actor, key_id: str) -> None:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    api_keys.revoke_api_key(session, workspace_id=actor.workspace_id, key_id=key_id,
                            actor=actor)


def _credential_row(credential: Credential) -> CredentialRow:
    return CredentialRow(id=credential.id, name=credential.name, type=credential.type,
                         header=str((credential.config or {}).get("header", "")),
                         created_by=credential.created_by or "",
                         created_at=iso(credential.created_at) or "")


def list_credentials(session: Session, *, actor: Actor) -> list[CredentialRow]:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    return [_credential_row(c) for c in credentials_repo.list_credentials(
        session, workspace_id=actor.workspace_id)]


def create_credential(session: Session, *, actor: Actor, name: str, type: str, value: str,
                      header: str = "") -> CredentialRow:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    config: dict[str, Any] = {"header": header.strip()} if header.strip() else {}
    created = credentials.create_credential(session, workspace_id=actor.workspace_id,
                                            actor=actor, name=name, type=type,
                                            value=value, config=config)
    return _credential_row(created)


def delete_credential(session: Session, *, actor: Actor, credential_id: str) -> None:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    credentials.delete_credential(session, workspace_id=actor.workspace_id,
                                  credential_id=credential_id, actor=actor)
