"""The email outbox: one row per message to one recipient, made from an event."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, workspace_fk


class EmailStatus:
    PENDING = "pending"  # waiting for its (next) attempt
    SENT = "sent"  # the SMTP server accepted it
    LOGGED = "logged"  # no SMTP_URL: written to the log instead (secrets masked)
    SKIPPED = "skipped"  # no longer worth sending (the item was decided before it went out)
    FAILED = "failed"  # every attempt failed, or the server refused the address for good
    ALL = (PENDING, SENT, LOGGED, SKIPPED, FAILED)


class EmailKind:
    NEW_ITEM = "new_item"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    DELEGATED = "delegated"
    DECISION = "decision"
    ALL = (NEW_ITEM, REMINDER, ESCALATION, DELEGATED, DECISION)


class OutboundEmail(SQLModel, table=True):
    __tablename__ = "outbound_email"
    __table_args__ = (
        sa.Index("ix_outbound_email_due", "status", "next_attempt_at"),
        # An event expanded twice (two processes, a retried transaction) adds no second copy.
        sa.UniqueConstraint("event_id", "to_addr", name="uq_outbound_email_event_to"),
    )

    id: str = id_field("eml")
    workspace_id: str = workspace_fk()
    event_id: str = Field(max_length=40)
    kind: str = Field(max_length=20)
    approval_id: str | None = Field(default=None, max_length=40, index=True)
    run_id: str | None = Field(default=None, max_length=40)
    user_id: str | None = Field(default=None, max_length=40)  # None: a form's email field
    to_addr: str = Field(max_length=320)
    # Fixed when the row is made: every attempt sends the same Message-ID, so a message sent
    # twice (a crash between the server's OK and our record of it) is one message to mail
    # clients that de-duplicate.
    message_id: str = Field(max_length=200)
    subject: str = Field(default="", max_length=300)
    status: str = Field(default=EmailStatus.PENDING, max_length=10)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # A sender holds the row until then; a crashed sender's rows are taken again after it.
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
