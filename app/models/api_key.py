"""API keys: only a SHA-256 hash of the secret is stored; the prefix identifies a key in lists."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk

SCOPES = (
    "workflows:read",
    "workflows:write",
    "runs:read",
    "runs:write",
    "approvals:write",
    "forms:read",
    "forms:write",
    "credentials:write",
    "webhooks:write",
    "audit:read",
)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = id_field("key")
    workspace_id: str = workspace_fk()
    name: str = Field(default="", max_length=200)
    prefix: str = Field(max_length=40)
    secret_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True}, index=True)
    scopes: list[str] = json_field(list)
    allowed_ips: list[str] | None = json_field(lambda: None, nullable=True)
    created_by: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
