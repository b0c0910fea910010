"""Credentials: the value is Fernet-encrypted at rest and never leaves the backend."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk

CREDENTIAL_TYPES = ("bearer", "api_key", "basic", "header")


class Credential(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("workspace_id", "name"),)

    id: str = id_field("cred")
    workspace_id: str = workspace_fk()
    name: str = Field(max_length=200)
    type: str = Field(max_length=20)
    value_encrypted: str
    # Non-secret settings, e.g. {"header": "X-Token"} for the header type.
    config: dict[str, Any] = json_field(dict)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
