"""Credentials by id or name within a workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import CREDENTIAL_TYPES, Credential
from app.repo.conditions import ENUM, TEXT, TIME, Attribute, Condition, apply

# What structured filters may name on a credential list.
CREDENTIAL_ATTRIBUTES = {
    "id": Attribute(Credential.id, TEXT),
    "name": Attribute(Credential.name, TEXT),
    "type": Attribute(Credential.type, ENUM, CREDENTIAL_TYPES),
    "created_by": Attribute(Credential.created_by, TEXT, nullable=True),
    "created_at": Attribute(Credential.created_at, TIME),
    "updated_at": Attribute(Credential.updated_at, TIME),
}


def find_credential(session: Session, *, workspace_id: str, ref: str) -> Credential | None:
    """A credential by its id or, failing that, its name."""
    credential = session.get(Credential, ref)
    if credential is not None and credential.workspace_id == workspace_id:
        return credential
    query = select(Credential).where(
        Credential.workspace_id == workspace_id, Credential.name == ref
    )
    return session.exec(query).first()


def list_credentials(session: Session, *, workspace_id: str) -> Sequence[Credential]:
    query = (
        select(Credential)
        .where(Credential.workspace_id == workspace_id)
        .order_by(col(Credential.created_at).desc(), col(Credential.id).desc())
    )
    return session.exec(query).all()


def list_credentials_page(session: Session, *, workspace_id: str, limit: int,
                          search: str | None = None,
                          before: tuple[datetime, str] | None = None, offset: int = 0,
                          conditions: Sequence[Condition] = ()) -> Sequence[Credential]:
    """Newest first; `before` is the (created_at, id) of the previous page's last row."""
    query = apply(select(Credential).where(Credential.workspace_id == workspace_id),
                  CREDENTIAL_ATTRIBUTES, conditions)
    if search:
        query = query.where(func.lower(Credential.name).like(f"%{search.lower()}%"))
    if before:
        at, ident = before
        query = query.where(
            (col(Credential.created_at) < at)
            | ((col(Credential.created_at) == at) & (col(Credential.id) < ident))
        )
    query = query.order_by(col(Credential.created_at).desc(), col(Credential.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()
