"""The email outbox: events waiting to become emails, and emails waiting to be sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, or_, select

from app.models import EmailStatus, Event, OutboundEmail


def events_to_mail(session: Session, *, limit: int) -> Sequence[Event]:
    query = (select(Event).where(col(Event.mail_pending).is_(True))
             .order_by(col(Event.created_at), col(Event.id)).limit(limit))
    return session.exec(query).all()


def take_event(session: Session, event_id: str) -> bool:
    """Clear the event's flag in the caller's transaction; False if another process did."""
    statement = (update(Event).where(col(Event.id) == event_id,
                                     col(Event.mail_pending).is_(True))
                 .values(mail_pending=False))
    return bool(session.connection().execute(statement).rowcount)


def add_emails(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(OutboundEmail), rows)


def due_ids(session: Session, *, now: datetime, limit: int) -> list[str]:
    query = (select(OutboundEmail.id)
             .where(OutboundEmail.status == EmailStatus.PENDING,
                    col(OutboundEmail.next_attempt_at) <= now,
                    or_(col(OutboundEmail.lease_until).is_(None),
                        col(OutboundEmail.lease_until) < now))
             .order_by(col(OutboundEmail.next_attempt_at)).limit(limit))
    return list(session.exec(query).all())


def lease(session: Session, email_id: str, *, now: datetime, until: datetime) -> bool:
    """Hold one due email until `until`; False if another sender holds or finished it."""
    statement = (update(OutboundEmail)
                 .where(col(OutboundEmail.id) == email_id,
                        col(OutboundEmail.status) == EmailStatus.PENDING,
                        or_(col(OutboundEmail.lease_until).is_(None),
                            col(OutboundEmail.lease_until) < now))
                 .values(lease_until=until))
    return bool(session.connection().execute(statement).rowcount)


def finish(session: Session, email_id: str, *, held_until: datetime,
           values: dict[str, Any]) -> bool:
    """Record an attempt's outcome, only while our lease holds (a sender that stalled past
    its lease must not overwrite the next sender's record)."""
    statement = (update(OutboundEmail)
                 .where(col(OutboundEmail.id) == email_id,
                        col(OutboundEmail.lease_until) == held_until)
                 .values(lease_until=None, **values))
    return bool(session.connection().execute(statement).rowcount)


def emails_of_approval(session: Session, approval_id: str) -> Sequence[OutboundEmail]:
    query = (select(OutboundEmail).where(OutboundEmail.approval_id == approval_id)
             .order_by(col(OutboundEmail.created_at)))
    return session.exec(query).all()


def recent(session: Session, *, workspace_id: str, limit: int = 50) -> Sequence[OutboundEmail]:
    query = (select(OutboundEmail).where(OutboundEmail.workspace_id == workspace_id)
             .order_by(col(OutboundEmail.created_at).desc()).limit(limit))
    return session.exec(query).all()
