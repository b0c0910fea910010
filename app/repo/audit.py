"""Audit rows: written by every service that changes state, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.models import Actor, AuditLog, new_id

_INSERT = insert(AuditLog)


def record(
    session: Session,
    *,
    workspace_id: str,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: str | None,
    details: dict[str, Any] | None = None,
    at_once: bool = False,
) -> None:
    """An audit row in the caller's transaction. `at_once`: a prebuilt Core insert executed
    now (hot paths), only for rows whose workspace is already in the database, since no ORM
    flush orders it."""
    values: dict[str, Any] = {
        "workspace_id": workspace_id, "actor_type": actor.type, "actor_id": actor.id,
        "actor_label": actor.display, "action": action, "resource_type": resource_type,
        "resource_id": resource_id, "details": details or {},
        "request_id": actor.request_id, "created_at": utcnow()}
    if at_once:
        session.connection().execute(_INSERT, {"id": new_id("aud"), **values})
    else:
        session.add(AuditLog(**values))


def list_entries(
    session: Session,
    *,
    workspace_id: str,
    limit: int,
    before: tuple[datetime, str] | None = None,
    action: str | None = None,
    resource_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Sequence[AuditLog]:
    """Newest first; `before` is the (created_at, id) of the last row of the previous page."""
    query = select(AuditLog).where(AuditLog.workspace_id == workspace_id)
    if action:
        query = query.where(AuditLog.action == action)
    if resource_id:
        query = query.where(AuditLog.resource_id == resource_id)
    if created_after:
        query = query.where(AuditLog.created_at >= created_after)
    if created_before:
        query = query.where(AuditLog.created_at < created_before)
    if before:
        at, ident = before
        query = query.where(
            (col(AuditLog.created_at) < at)
            | ((col(AuditLog.created_at) == at) & (col(AuditLog.id) < ident))
        )
    query = query.order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc()).limit(limit)
    return session.exec(query).all()
