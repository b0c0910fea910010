"""Uploaded files: the metadata row; the bytes live in the file storage under storage_key."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, workspace_fk


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"

    id: str = id_field("fil")
    workspace_id: str = workspace_fk()
    name: str = Field(max_length=255)  # sanitised: no folders, no control characters
    size: int
    content_type: str = Field(max_length=100)  # sniffed from the bytes, never the client's
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=300)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    # the first run, and the form submission, that referenced the file: an upload neither
    # ever referenced is removed after a day (see services/files.purge_orphans)
    run_id: str | None = Field(default=None, foreign_key="run.id", index=True, max_length=40)
    submission_id: str | None = Field(default=None, max_length=40)
