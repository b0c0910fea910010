"""Schedules: a cron expression in a time zone that triggers a workflow; and their fires, the
history of what each due time did (a run, a run-now, missed fires skipped or run once, a
failure to start)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class MissedPolicy:
    """What a schedule does with fires that fell while no process was running."""

    SKIP = "skip"  # drop them; fire again at the next due time
    RUN_ONCE = "run_once"  # start one run for all of them, then go on as usual
    ALL = (SKIP, RUN_ONCE)


class FireKind:
    FIRED = "fired"  # a due time started a run
    RUN_NOW = "run_now"  # a person or key started one out of turn
    MISSED = "missed"  # due times passed while down; `missed` says how many, run_id if run once
    FAILED = "failed"  # the run could not start (unpublished workflow, bad input, limit)


class Schedule(SQLModel, table=True):
    id: str = id_field("sch")
    workspace_id: str = workspace_fk()
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=40)
    name: str = Field(default="", max_length=200)
    cron: str = Field(max_length=120)
    timezone: str = Field(default="UTC", max_length=64)
    input: dict[str, Any] = json_field(dict)
    missed_policy: str = Field(default=MissedPolicy.SKIP, max_length=20)
    enabled: bool = True
    # Claimed by compare-and-swap on this column, so several processes never fire one twice.
    next_fire_at: datetime | None = Field(default=None, index=True)
    last_fired_at: datetime | None = None
    last_run_id: str | None = Field(default=None, max_length=40)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ScheduleFire(SQLModel, table=True):
    """One due time of a schedule and what it did; unique per due time, so a fire is
    recorded (and its run started) once even if two processes won the same claim."""

    __tablename__ = "schedule_fire"
    __table_args__ = (
        sa.UniqueConstraint("schedule_id", "due_at", "kind", name="uq_schedule_fire_due"),
        sa.Index("ix_schedule_fire_schedule_at", "schedule_id", "at"),
    )

    id: str = id_field("sfi")
    workspace_id: str = workspace_fk()
    schedule_id: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    due_at: datetime
    at: datetime = Field(default_factory=utcnow)
    missed: int = 0
    run_id: str | None = Field(default=None, max_length=40)
    detail: str | None = Field(default=None, max_length=500)
