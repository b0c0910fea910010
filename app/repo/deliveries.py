"""The dispatcher's queries: fan events out into deliveries, claim due ones with a lease,
and complete an attempt only while the lease is still held.

Claims are one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`, as for
steps (app/repo/steps.py): on SQLite the write session's BEGIN IMMEDIATE serialises them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import BindParameter, bindparam, insert, union_all, update
from sqlmodel import Session, col, func, select

from app.clock import as_utc
from app.models import DeliveryStatus, Event, Webhook, WebhookAttempt, WebhookDelivery, new_id
from app.repo.lean import LeanStatement
from app.repo.webhooks import matches


@dataclass(frozen=True)
class DeliveryClaim:
    """A delivery this dispatcher holds until `lease_expires_at`; the token proves it."""

    delivery_id: str
    webhook_id: str
    event_id: str
    workspace_id: str
    attempt: int
    created_at: datetime
    token: str
    lease_expires_at: datetime


_ANY_UNFANNED = select(Event.id).where(col(Event.fanned_out_at).is_(None)).limit(1)
# Only the columns routing needs: payloads stay in the database (most events of a busy
# workspace go to no subscription at all).
_UNFANNED = (
    select(Event.id, Event.workspace_id, Event.type, Event.created_at)
    .where(col(Event.fanned_out_at).is_(None))
    .order_by(col(Event.created_at), col(Event.id))
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True)
)
_MARK_FANNED = (
    update(Event)
    .where(col(Event.id).in_(bindparam("b_ids", expanding=True)))
    .values(fanned_out_at=bindparam("b_now"))
)
_INSERT_DELIVERY = insert(WebhookDelivery)
_ACTIVE_HOOKS = select(Webhook).where(
    col(Webhook.workspace_id).in_(bindparam("b_workspaces", expanding=True)),
    col(Webhook.active).is_(True),
)


def has_unfanned_events(session: Session) -> bool:
    return session.connection().execute(_ANY_UNFANNED).first() is not None


def fan_out_events(session: Session, *, now: datetime, limit: int) -> tuple[int, int]:
    """Turn up to `limit` new events into deliveries, oldest first; (events, deliveries).

    Each event goes to every active subscription of its workspace that names its type (or
    `*`) and existed when the event happened. The unique (webhook, event, replay_of) key makes
    a second fan-out of the same event impossible even if two dispatchers raced.
    """
    events = session.connection().execute(_UNFANNED, {"b_limit": limit}).all()
    if not events:
        return 0, 0
    by_workspace: dict[str, list[Webhook]] = defaultdict(list)
    workspaces = sorted({event.workspace_id for event in events})
    for webhook in session.exec(_ACTIVE_HOOKS, params={"b_workspaces": workspaces}).all():
        by_workspace[webhook.workspace_id].append(webhook)
    deliveries = [
        {"id": new_id("dlv"), "workspace_id": event.workspace_id, "webhook_id": webhook.id,
         "event_id": event.id, "event_type": event.type, "replay_of": "",
         "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
         "last_status_code": None, "last_error": None, "last_latency_ms": None,
         "lease_token": None, "lease_expires_at": None, "created_at": now,
         "delivered_at": None}
        for event in events
        for webhook in by_workspace.get(event.workspace_id, ())
        if matches(webhook.events, event.type)
        and as_utc(webhook.created_at) <= as_utc(event.created_at)
    ]
    connection = session.connection()
    if deliveries:
        connection.execute(_INSERT_DELIVERY, deliveries)
    connection.execute(_MARK_FANNED, {"b_ids": [event.id for event in events], "b_now": now})
    created = len(deliveries)
    return len(events), created


# Prebuilt, as the step claim (app/repo/steps.py): each kind of due delivery is an index
# range read in due order and cut at the limit, however long the queue is.
_NOW: BindParameter[datetime] = bindparam("b_now")
_LIMIT: BindParameter[int] = bindparam("b_limit")
_PENDING_DUE_WHERE = (col(WebhookDelivery.status) == DeliveryStatus.PENDING,
                      col(WebhookDelivery.next_attempt_at) <= _NOW, col(Webhook.active).is_(True))
# A dispatcher died mid-attempt: take the delivery over (its webhook may since have been
# disabled; the attempt then ends without being sent).
_ABANDONED_WHERE = (col(WebhookDelivery.status) == DeliveryStatus.DELIVERING,
                    col(WebhookDelivery.lease_expires_at) < _NOW)
_PENDING_DUE = (
    select(col(WebhookDelivery.id).label("id"), col(WebhookDelivery.next_attempt_at).label("due"))
    .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
    .where(*_PENDING_DUE_WHERE)
    .order_by(col(WebhookDelivery.next_attempt_at)).limit(_LIMIT)
    .with_for_update(skip_locked=True, of=WebhookDelivery)
    .cte("due_pending")
)
_ABANDONED = (
    select(col(WebhookDelivery.id).label("id"),
           col(WebhookDelivery.lease_expires_at).label("due"))
    .where(*_ABANDONED_WHERE)
    .order_by(col(WebhookDelivery.lease_expires_at)).limit(_LIMIT)
    .with_for_update(skip_locked=True)
    .cte("due_abandoned")
)
_DUE = union_all(select(_PENDING_DUE.c.id, _PENDING_DUE.c.due),
                 select(_ABANDONED.c.id, _ABANDONED.c.due)).subquery("due")
_CLAIM = (
    update(WebhookDelivery)
    .where(col(WebhookDelivery.id).in_(
        select(_DUE.c.id).order_by(_DUE.c.due).limit(_LIMIT).scalar_subquery()))
    .values(status=DeliveryStatus.DELIVERING, lease_token=bindparam("b_token"),
            lease_expires_at=bindparam("b_expires"), attempts=WebhookDelivery.attempts + 1)
    .returning(col(WebhookDelivery.id), col(WebhookDelivery.webhook_id),
               col(WebhookDelivery.event_id), col(WebhookDelivery.workspace_id),
               col(WebhookDelivery.attempts), col(WebhookDelivery.created_at))
)
_ANY_PENDING_DUE = (
    select(WebhookDelivery.id)
    .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
    .where(*_PENDING_DUE_WHERE)
    .limit(1)
)
_ANY_ABANDONED = select(WebhookDelivery.id).where(*_ABANDONED_WHERE).limit(1)


def has_due_deliveries(session: Session, *, now: datetime) -> bool:
    """Whether a claim would find anything: reads only, so an idle dispatcher takes no
    writer's turn on SQLite and no row locks on PostgreSQL."""
    connection = session.connection()
    return any(connection.execute(query, {"b_now": now}).first() is not None
               for query in (_ANY_PENDING_DUE, _ANY_ABANDONED))


def claim_due_deliveries(
    session: Session, *, now: datetime, lease_s: float, limit: int
) -> list[DeliveryClaim]:
    """Lease up to `limit` due deliveries (pending and due, or an expired lease)."""
    token = uuid.uuid4().hex
    expires = now + timedelta(seconds=lease_s)
    rows = session.connection().execute(_CLAIM, {
        "b_now": now, "b_limit": limit, "b_token": token, "b_expires": expires}).all()
    return [
        DeliveryClaim(delivery_id=row[0], webhook_id=row[1], event_id=row[2],
                      workspace_id=row[3], attempt=row[4], created_at=as_utc(row[5]),
                      token=token, lease_expires_at=expires)
        for row in rows
    ]


def finish_delivery(session: Session, claim: DeliveryClaim, *, values: dict[str, Any]) -> bool:
    """Apply `values` only if the lease is still this claim's; False when it was lost."""
    statement = (
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.id) == claim.delivery_id,
            col(WebhookDelivery.lease_token) == claim.token,
            col(WebhookDelivery.status) == DeliveryStatus.DELIVERING,
        )
        .values(lease_token=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount == 1


@dataclass(frozen=True)
class AttemptWrite:
    """One finished attempt: its row in the log and what it makes of its delivery."""

    claim: DeliveryClaim
    status: str
    next_attempt_at: datetime | None
    started_at: datetime
    status_code: int | None
    latency_ms: float | None
    error: str | None
    response_excerpt: str | None
    delivered_at: datetime | None


# Compiled once per dialect and sent as driver SQL (app/repo/lean.py), as the executor's
# writes: each is one executemany for a whole batch.
_HELD_BY_CLAIM = (col(WebhookDelivery.id) == bindparam("b_id"),
                  col(WebhookDelivery.lease_token) == bindparam("b_token"),
                  col(WebhookDelivery.status) == DeliveryStatus.DELIVERING)
_FINISH_ATTEMPT = LeanStatement(
    update(WebhookDelivery)
    .where(*_HELD_BY_CLAIM)
    .values(status=bindparam("b_status"), next_attempt_at=bindparam("b_next"),
            lease_token=None, lease_expires_at=None, last_status_code=bindparam("b_code"),
            last_error=bindparam("b_error"), last_latency_ms=bindparam("b_latency"),
            delivered_at=bindparam("b_delivered"))
)
_INSERT_ATTEMPT = LeanStatement(insert(WebhookAttempt), keys=list(WebhookAttempt.model_fields))


def finish_attempts(session: Session, writes: Sequence[AttemptWrite]) -> bool:
    """Every delivery's new state (one executemany, each row only under its claim's lease),
    then every attempt's row (one executemany). False when a lease was lost: nothing is
    written then, and the caller rolls back what it wrote before."""
    if not writes:
        return True
    connection = session.connection()
    finished = _FINISH_ATTEMPT.execute(connection, [{
        "b_id": w.claim.delivery_id, "b_token": w.claim.token, "b_status": w.status,
        "b_next": w.next_attempt_at, "b_code": w.status_code,
        "b_error": w.error[:1000] if w.error else None, "b_latency": w.latency_ms,
        "b_delivered": w.delivered_at} for w in writes])
    if finished != len(writes):
        return False
    _INSERT_ATTEMPT.execute(connection, [{
        "id": new_id("att"), "workspace_id": w.claim.workspace_id,
        "delivery_id": w.claim.delivery_id, "number": w.claim.attempt,
        "started_at": w.started_at, "status_code": w.status_code, "latency_ms": w.latency_ms,
        "error": w.error[:1000] if w.error else None,
        "response_excerpt": w.response_excerpt[:1000] if w.response_excerpt else None}
        for w in writes])
    return True


_RELEASE = (
    update(WebhookDelivery)
    .where(*_HELD_BY_CLAIM)
    .values(status=DeliveryStatus.PENDING, lease_token=None, lease_expires_at=None,
            attempts=WebhookDelivery.attempts - 1)
)


def release_claims(session: Session, claims: list[DeliveryClaim]) -> int:
    """Give back claims that were never sent (due again at once, the attempt not counted);
    returns how many were still held."""
    outcome = session.connection().execute(
        _RELEASE, [{"b_id": claim.delivery_id, "b_token": claim.token} for claim in claims])
    return outcome.rowcount


@dataclass(frozen=True)
class DeliverySource:
    """What an attempt is built from: the subscription's sending columns and the event's
    payload, read in one statement."""

    url: str
    active: bool
    disabled_reason: str | None
    payload_format: str
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None
    payload: dict[str, Any]


_SOURCES = (
    # SQLAlchemy's select(): sqlmodel's is typed for at most four columns.
    sa.select(col(WebhookDelivery.id), col(Webhook.url), col(Webhook.active),
              col(Webhook.disabled_reason), col(Webhook.payload_format),
              col(Webhook.secret_encrypted), col(Webhook.previous_secret_encrypted),
              col(Webhook.previous_secret_expires_at), col(Event.payload))
    .select_from(WebhookDelivery)
    .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
    .join(Event, col(Event.id) == col(WebhookDelivery.event_id))
    .where(col(WebhookDelivery.id).in_(bindparam("b_ids", expanding=True)))
)


def delivery_sources(session: Session,
                     claims: Sequence[DeliveryClaim]) -> dict[str, DeliverySource]:
    """What to send for each claimed delivery, in one statement, by delivery id (a delivery
    whose subscription or event is gone is missing)."""
    rows = session.connection().execute(
        _SOURCES, {"b_ids": [claim.delivery_id for claim in claims]}).all()
    return {row[0]: DeliverySource(*row[1:]) for row in rows}


def next_due_at(session: Session) -> datetime | None:
    """When the earliest waiting delivery of an active subscription falls due."""
    query = (
        select(func.min(WebhookDelivery.next_attempt_at))
        .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
        .where(col(WebhookDelivery.status) == DeliveryStatus.PENDING,
               col(Webhook.active).is_(True))
    )
    found = session.exec(query).first()
    return as_utc(found) if found is not None else None
