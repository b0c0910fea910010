"""Runs, their step runs (the executor's unit of work, leased) and approvals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import RunStatus, StepStatus, id_field, json_field, workspace_fk


class Run(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_run_ws_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_run_ws_status", "workspace_id", "status"),
    )

    id: str = id_field("run")
    workspace_id: str = workspace_fk()
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=40)
    workflow_version_id: str = Field(foreign_key="workflow_version.id", max_length=40)
    version_number: int
    workflow_title: str = Field(default="", max_length=200)
    status: str = Field(default=RunStatus.IN_PROGRESS, max_length=20)
    input: dict[str, Any] = json_field(dict)
    outputs: dict[str, Any] = json_field(dict)
    current_step: str | None = Field(default=None, max_length=64)
    steps_completed: int = 0
    trigger: str = Field(default="api", max_length=20)
    idempotency_key: str | None = Field(default=None, max_length=200)
    parent_step_id: str | None = Field(default=None, max_length=40, index=True)
    created_by: str | None = Field(default=None, max_length=200)
    # Who started it, as `type:id` (a user or an API key; None for the system, a schedule or
    # a public form): an approval policy refuses their vote unless it allows the requester.
    requester: str | None = Field(default=None, max_length=80)
    # The run this one came from: the one it re-runs, or the FLAGGED one an error workflow
    # was started for (the trigger says which).
    source_run_id: str | None = Field(default=None, max_length=40, index=True)
    error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None
    deadline_at: datetime | None = None


class StepRun(SQLModel, table=True):
    __tablename__ = "step_run"
    __table_args__ = (
        sa.Index("ix_step_run_ready", "status", "next_attempt_at"),
        sa.Index("ix_step_run_lease", "status", "lease_expires_at"),
        sa.Index("ix_step_run_run_seq", "run_id", "seq"),
    )

    id: str = id_field("stp")
    workspace_id: str = workspace_fk()
    run_id: str = Field(foreign_key="run.id", max_length=40)
    step_key: str = Field(max_length=64)
    kind: str = Field(max_length=20)
    seq: int = 0
    status: str = Field(default=StepStatus.PENDING, max_length=20)
    attempt: int = 0
    max_attempts: int = 1
    input: dict[str, Any] = json_field(dict)
    result: Any = json_field(lambda: None, nullable=True)
    error: str | None = None
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_token: str | None = Field(default=None, max_length=40)
    lease_expires_at: datetime | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ApprovalStatus:
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # its due time passed and on_timeout sent the run to a step
    ALL = (PENDING, APPROVED, REJECTED, CANCELLED, EXPIRED)


class Approval(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_approval_ws_status", "workspace_id", "status", "created_at"),)

    id: str = id_field("apr")
    workspace_id: str = workspace_fk()
    run_id: str = Field(foreign_key="run.id", index=True, max_length=40)
    step_run_id: str = Field(foreign_key="step_run.id", index=True, max_length=40)
    step_key: str = Field(max_length=64)
    workflow_id: str = Field(max_length=40)
    workflow_title: str = Field(default="", max_length=200)
    assignees: list[str] = json_field(list)
    instructions: str = ""
    status: str = Field(default=ApprovalStatus.PENDING, max_length=20)
    comment: str | None = None
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = None
    due_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    # The step's policy when it started to wait (app/engine/approval_policy.py); {} before
    # policies existed (any, requester allowed).
    policy: dict[str, Any] = json_field(dict)
    # durable timers (reminders, escalation, timeout): the next one is claimed by compare-
    # and-set on next_timer_at, so several processes never fire one twice
    next_timer_at: datetime | None = Field(default=None, index=True)
    reminders_sent: int = 0
    last_reminded_at: datetime | None = None
    escalated_at: datetime | None = None
    # hand-overs of a vote: {"from": voter ref, "from_label", "from_email", "from_role",
    # "to_email", "to_user_id", "by", "at"}; the delegate votes in the delegator's place
    delegations: list[dict[str, Any]] = json_field(list)


class ApprovalVote(SQLModel, table=True):
    """One person's vote on an approval: each voter once (the unique key decides)."""

    __tablename__ = "approval_vote"
    __table_args__ = (sa.UniqueConstraint("approval_id", "voter", name="uq_approval_vote_voter"),)

    id: str = id_field("vot")
    workspace_id: str = workspace_fk()
    approval_id: str = Field(foreign_key="approval.id", index=True, max_length=40)
    voter: str = Field(max_length=80)  # type:id of the actor
    label: str = Field(default="", max_length=320)  # what the timeline shows: an email
    email: str | None = Field(default=None, max_length=320)
    role: str | None = Field(default=None, max_length=20)
    decision: str = Field(max_length=20)
    comment: str | None = None
    fields: dict[str, Any] = json_field(dict)
    via: str = Field(default="api", max_length=20)  # page, link, api, email, cli
    created_at: datetime = Field(default_factory=utcnow)


__all__ = ["Approval", "ApprovalStatus", "ApprovalVote", "Run", "RunStatus", "StepRun",
           "StepStatus"]
