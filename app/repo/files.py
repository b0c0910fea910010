"""Stored files' metadata rows, always within one workspace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.models import StoredFile


def get_file(session: Session, file_id: str, *, workspace_id: str) -> StoredFile | None:
    """The file `file_id` of `workspace_id` (another workspace's file: None)."""
    stored = session.get(StoredFile, file_id)
    if stored is None or stored.workspace_id != workspace_id:
        return None
    return stored


def files_by_id(session: Session, file_ids: Sequence[str], *,
                workspace_id: str) -> dict[str, StoredFile]:
    """The files of `workspace_id` among `file_ids`, by id (unknown ids are left out)."""
    if not file_ids:
        return {}
    query = select(StoredFile).where(col(StoredFile.id).in_(list(file_ids)),
                                     StoredFile.workspace_id == workspace_id)
    return {f.id: f for f in session.exec(query).all()}


def attach(session: Session, file_ids: Sequence[str], *, run_id: str | None = None,
           submission_id: str | None = None) -> None:
    """Record the first run (or submission) that references each file; a file already
    attached keeps its first owner (re-runs and later runs may reference it too)."""
    if not file_ids:
        return
    if run_id is not None:
        session.execute(update(StoredFile).where(col(StoredFile.id).in_(list(file_ids)),
                                                 col(StoredFile.run_id).is_(None))
                        .values(run_id=run_id))
    if submission_id is not None:
        session.execute(update(StoredFile).where(col(StoredFile.id).in_(list(file_ids)),
                                                 col(StoredFile.submission_id).is_(None))
                        .values(submission_id=submission_id))


def orphans(session: Session, *, uploaded_before: datetime, limit: int) -> Sequence[StoredFile]:
    """Uploads no run or submission ever referenced, older than `uploaded_before`."""
    query = (select(StoredFile)
             .where(col(StoredFile.run_id).is_(None), col(StoredFile.submission_id).is_(None),
                    col(StoredFile.created_at) < uploaded_before)
             .order_by(col(StoredFile.created_at)).limit(limit))
    return session.exec(query).all()


def delete_rows(session: Session, file_ids: Sequence[str]) -> None:
    if file_ids:
        session.execute(delete(StoredFile).where(col(StoredFile.id).in_(list(file_ids))))
