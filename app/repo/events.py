"""The outbox: events are added in the transaction of the change they report."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app import wakeup
from app.clock import iso, utcnow
from app.models import Event, new_id


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
    payload = {
        "event": type,
        "id": event_id,
        "run_id": run_id,
        "workflow_id": workflow_id,
        "workspace_id": workspace_id,
        "timestamp": iso(now),
        "data": data,
    }
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
