"""The outbox: events are added in the transaction of the change they report."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from app import wakeup
from app.clock import iso, utcnow
from app.models import Event, new_id

_INSERT = insert(Event)


def emit_core(
    session: Session,
    *,
    type: str,
    workspace_id: str,
    data: dict[str, Any],
    run_id: str | None = None,
    workflow_id: str | None = None,
) -> str:
    """The same event as emit(), inserted with a prebuilt Core statement (the executor's
    hot path: no ORM object); returns its id."""
    now = utcnow()
    event_id = new_id("evt")
    session.connection().execute(_INSERT, {
        "id": event_id, "workspace_id": workspace_id, "type": type, "run_id": run_id,
        "workflow_id": workflow_id, "created_at": now, "fanned_out_at": None,
        "payload": _payload(event_id, type, workspace_id, run_id, workflow_id, now, data)})
    wakeup.mark(session, wakeup.EVENTS)
    return event_id


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
    )
    session.add(row)
    wakeup.mark(session, wakeup.EVENTS)
    return row
