"""The outbox of events, webhook subscriptions, deliveries and every delivery attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk

EVENT_TYPES = (
    "run.started",
    "run.step_completed",
    "run.awaiting_approval",
    "run.completed",
    "run.flagged",
    "run.cancelled",
    "approval.created",
    "approval.reminded",
    "approval.escalated",
    "approval.delegated",
    "approval.reassigned",
    "approval.decided",
    "form.submitted",
)
# Events the mailer turns into emails (it reads them while `mail_pending` is set).
MAIL_EVENT_TYPES = frozenset({
    "approval.created", "approval.reminded", "approval.escalated", "approval.delegated",
    "approval.reassigned", "approval.decided"})


class Event(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_event_pending", "fanned_out_at", "created_at"),)

    id: str = id_field("evt")
    workspace_id: str = workspace_fk()
    type: str = Field(max_length=60)
    run_id: str | None = Field(default=None, max_length=40, index=True)
    workflow_id: str | None = Field(default=None, max_length=40)
    payload: dict[str, Any] = json_field(dict)
    created_at: datetime = Field(default_factory=utcnow)
    # Set once the dispatcher has turned the event into deliveries.
    fanned_out_at: datetime | None = None
    # True from the change until the mailer has turned the event into emails (only events
    # that send email have it set).
    mail_pending: bool = Field(default=False, index=True)
    # run.flagged events until the error workflow (if any applies) has been started.
    error_pending: bool = Field(default=False, index=True)


class PayloadFormat:
    """How a delivery's JSON body is shaped for a subscription."""

    STANDARD = "standard"
    # The standard payload plus the camelCase keys (runId, workflowId, orgId) that clients of
    # the /api/public compatibility routes read.
    COMPAT = "compat"
    ALL = (STANDARD, COMPAT)


class Webhook(SQLModel, table=True):
    id: str = id_field("wh")
    workspace_id: str = workspace_fk()
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    events: list[str] = json_field(list)
    payload_format: str = Field(default=PayloadFormat.STANDARD, max_length=20,
                                sa_column_kwargs={"server_default": PayloadFormat.STANDARD})
    secret_encrypted: str
    previous_secret_encrypted: str | None = None
    previous_secret_expires_at: datetime | None = None
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    consecutive_failures: int = 0
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeliveryStatus:
    PENDING = "pending"
    DELIVERING = "delivering"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ALL = (PENDING, DELIVERING, SUCCEEDED, FAILED)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index("ix_delivery_due", "status", "next_attempt_at"),
        sa.UniqueConstraint("webhook_id", "event_id", "replay_of"),
    )

    id: str = id_field("dlv")
    workspace_id: str = workspace_fk()
    webhook_id: str = Field(foreign_key="webhook.id", index=True, max_length=40)
    event_id: str = Field(foreign_key="event.id", max_length=40)
    event_type: str = Field(max_length=60)
    # A replay is a new delivery of the same event (same webhook-id for the receiver).
    replay_of: str = Field(default="", max_length=40)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    last_latency_ms: float | None = None
    lease_token: str | None = Field(default=None, max_length=40)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"

    id: str = id_field("att")
    workspace_id: str = workspace_fk()
    delivery_id: str = Field(foreign_key="webhook_delivery.id", index=True, max_length=40)
    number: int
    started_at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = Field(default=None, max_length=1000)
    response_excerpt: str | None = Field(default=None, max_length=1000)
