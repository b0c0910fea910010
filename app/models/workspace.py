"""Workspaces, users and their memberships (role per workspace)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class Workspace(SQLModel, table=True):
    id: str = id_field("ws")
    name: str = Field(max_length=200)
    max_concurrent_runs: int | None = None
    rate_limit_read_per_min: int | None = None
    rate_limit_write_per_min: int | None = None
    # The error workflow of every workflow that names none of its own.
    error_workflow_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    id: str = id_field("usr")
    email: str = Field(max_length=320, sa_column_kwargs={"unique": True}, index=True)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    is_active: bool = True
    # Sign-in throttling: consecutive failures and the time before which sign-in is refused.
    failed_logins: int = 0
    locked_until: datetime | None = None
    # Bumped to invalidate every signed session cookie of the user (sign out everywhere).
    session_epoch: int = 0
    # Which approval emails they get: all, only items that name them, or none.
    email_notifications: str = Field(default="all", max_length=10)
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("workspace_id", "user_id"),)

    id: str = id_field("mem")
    workspace_id: str = workspace_fk()
    user_id: str = Field(foreign_key="user.id", index=True, max_length=40)
    role: str = Field(max_length=20)
    # {"delegate_email", "starts_at", "ends_at"}: while away, new and pending items that name
    # them are delegated to that member.
    out_of_office: dict[str, Any] | None = json_field(lambda: None, nullable=True)
    created_at: datetime = Field(default_factory=utcnow)
