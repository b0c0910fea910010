"""Credentials by id or name within a workspace."""

from __future__ import annotations

from collections.abc import Sequence

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
