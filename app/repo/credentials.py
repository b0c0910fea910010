"""Credentials by id or name within a workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Credential


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
                          before: tuple[datetime, str] | None = None) -> Sequence[Credential]:
    """Newest first; `before` is the (created_at, id) of the previous page's last row."""
    query = select(Credential).where(Credential.workspace_id == workspace_id)
    if search:
        query = query.where(func.lower(Credential.name).like(f"%{search.lower()}%"))
    if before:
        at, ident = before
        query = query.where(
            (col(Credential.created_at) < at)
            | ((col(Credential.created_at) == at) & (col(Credential.id) < ident))
        )
    query = query.order_by(col(Credential.created_at).desc(), col(Credential.id).desc())
    return session.exec(query.limit(limit)).all()
