"""The audit log: who (a user, an API key or the system) did what to which resource."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_ws_created", "workspace_id", "created_at", "id"),)

    id: str = id_field("aud")
    workspace_id: str = workspace_fk()
    actor_type: str = Field(max_length=20)
    actor_id: str | None = Field(default=None, max_length=40)
    actor_label: str = Field(default="", max_length=320)
    action: str = Field(max_length=80)
    resource_type: str = Field(max_length=40)
    resource_id: str | None = Field(default=None, max_length=40)
    details: dict[str, Any] = json_field(dict)
    request_id: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow)
