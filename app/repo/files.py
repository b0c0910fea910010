"""Stored files' metadata rows, always within one workspace."""

from __future__ import annotations

from sqlmodel import Session

from app.models import StoredFile


def get_file(session: Session, file_id: str, *, workspace_id: str) -> StoredFile | None:
    """The file `file_id` of `workspace_id` (another workspace's file: None)."""
    stored = session.get(StoredFile, file_id)
    if stored is None or stored.workspace_id != workspace_id:
        return None
    return stored
