"""Credential use cases: the value is encrypted on the way in and never comes back out."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import crypto
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import CREDENTIAL_TYPES, Actor, Credential
from app.repo import audit
from app.repo import credentials as credentials_repo


def create_credential(session: Session, *, workspace_id: str, actor: Actor, name: str,
                      type: str, value: str, config: dict[str, Any] | None = None) -> Credential:
    problems = []
    if not (name or "").strip():
        problems.append(FieldError("name", "is required", "required"))
    if type not in CREDENTIAL_TYPES:
        problems.append(FieldError("type", f"must be one of {', '.join(CREDENTIAL_TYPES)}"))
    if not value:
        problems.append(FieldError("value", "is required", "required"))
    if type == "basic" and value and ":" not in value:
        problems.append(FieldError("value", "a basic credential is 'user:password'"))
    if type == "header" and not (config or {}).get("header"):
        problems.append(FieldError("config.header", "the header name is required", "required"))
    if problems:
        raise ValidationFailed("The credential is invalid", errors=problems)
    if credentials_repo.find_credential(session, workspace_id=workspace_id, ref=name.strip()):
        raise Conflict(f"a credential named '{name.strip()}' already exists")
    credential = Credential(workspace_id=workspace_id, name=name.strip(), type=type,
                            value_encrypted=crypto.encrypt(value), config=config or {},
                            created_by=actor.display)
    session.add(credential)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="credential.created",
                 resource_type="credential", resource_id=credential.id)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"a credential named '{name.strip()}' already exists") from exc
    return credential


def delete_credential(session: Session, *, workspace_id: str, credential_id: str,
                      actor: Actor) -> None:
    credential = session.get(Credential, credential_id)
    if credential is None or credential.workspace_id != workspace_id:
        raise not_found("credential", credential_id)
    session.delete(credential)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="credential.deleted",
                 resource_type="credential", resource_id=credential_id)
    session.commit()
