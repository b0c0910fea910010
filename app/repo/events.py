"""The outbox: events are added in the transaction of the change they report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from app import wakeup
from app.clock import iso, utcnow
from app.models import Event, new_id
from app.models.event import MAIL_EVENT_TYPES
from app.repo.lean import LeanStatement

_INSERT = LeanStatement(insert(Event), keys=list(Event.model_fields))  # every column given
FLAGGED = "run.flagged"  # its event owes the run's error workflow, if one applies


@dataclass(frozen=True, slots=True)
class CoreEvent:
    type: str
    workspace_id: str
    data: dict[str, Any]
    run_id: str | None = None
    workflow_id: str | None = None


def emit_many_core(session: Session, batch: list[CoreEvent]) -> list[str]:
    """Events inserted with one prebuilt Core statement (an executemany): no ORM objects, and
    their runs need not be flushed (events name runs without a foreign key)."""
    start = utcnow()
    rows: list[dict[str, Any]] = []
    for order, event in enumerate(batch):
        # (created_at, id) is the outbox's order: a microsecond apart keeps the batch's.
        now = start + timedelta(microseconds=order)
        event_id = new_id("evt")
        rows.append({
            "id": event_id, "workspace_id": event.workspace_id, "type": event.type,
            "run_id": event.run_id, "workflow_id": event.workflow_id, "created_at": now,
            "fanned_out_at": None, "mail_pending": event.type in MAIL_EVENT_TYPES,
            "error_pending": event.type == FLAGGED,
            "payload": _payload(event_id, event.type, event.workspace_id, event.run_id,
                                event.workflow_id, now, event.data)})
    if rows:
        _INSERT.execute(session.connection(), rows)
        wakeup.mark(session, wakeup.EVENTS)
        if any(row["mail_pending"] for row in rows):
            wakeup.mark(session, wakeup.MAIL)
        if any(row["error_pending"] for row in rows):
            wakeup.mark(session, wakeup.FLAGGED)
    return [row["id"] for row in rows]


def _payload(event_id: str, type: str, workspace_id: str, run_id: str | None,
             workflow_id: str | None, now: Any, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": type,
        "id": event_id,
        "run_id": run_id,
        "workflow_id": workflow_id,
        "workspace_id": workspace_id,
        "timestamp": iso(now),
        "data": data,
    }


def emit(
    session: Session,
    *,
    type: str,
    workspace_id: str,
    data: dict[str, Any],
    run_id: str | None = None,
    workflow_id: str | None = None,
) -> Event:
    now = utcnow()
    event_id = new_id("evt")
    payload = _payload(event_id, type, workspace_id, run_id, workflow_id, now, data)
    row = Event(
        id=event_id,
        workspace_id=workspace_id,
        type=type,
        run_id=run_id,
        workflow_id=workflow_id,
        payload=payload,
        created_at=now,
        mail_pending=type in MAIL_EVENT_TYPES,
        error_pending=type == FLAGGED,
    )
    session.add(row)
    wakeup.mark(session, wakeup.EVENTS)
    if row.mail_pending:
        wakeup.mark(session, wakeup.MAIL)
    if row.error_pending:
        wakeup.mark(session, wakeup.FLAGGED)
    return row


def flagged_pending(session: Session, *, limit: int) -> list[Event]:
    """run.flagged events whose error workflow has not been looked at yet, oldest first."""
    query = (select(Event).where(col(Event.error_pending).is_(True))
             .order_by(col(Event.created_at), col(Event.id)).limit(limit))
    return list(session.exec(query).all())


def take_flagged(session: Session, event_id: str) -> bool:
    """Clear the event's flag in the caller's transaction; False if another process did."""
    statement = (update(Event).where(col(Event.id) == event_id,
                                     col(Event.error_pending).is_(True))
                 .values(error_pending=False))
    return bool(session.connection().execute(statement).rowcount)
