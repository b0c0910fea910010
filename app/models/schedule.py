"""Schedules: a cron expression in a time zone that triggers a workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class Schedule(SQLModel, table=True):
    id: str = id_field("sch")
    workspace_id: str = workspace_fk()
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=40)
    cron: str = Field(max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    input: dict[str, Any] = json_field(dict)
    enabled: bool = True
    # Claimed by compare-and-swap on this column, so several processes never fire one twice.
    next_fire_at: datetime | None = Field(default=None, index=True)
    last_fired_at: datetime | None = None
    last_run_id: str | None = Field(default=None, max_length=40)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
