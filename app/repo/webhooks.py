"""Webhook subscriptions and the delivery log: lookups, keyset lists, replays and deletion.

The dispatcher's side (fan-out, leased claims, completion) is in app/repo/deliveries.py.
Lock order, everywhere: a webhook row before its deliveries (see lock_webhook).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, update
from sqlmodel import Session, col, select

from app import wakeup
from app.models import DeliveryStatus, Event, Webhook, WebhookAttempt, WebhookDelivery
from app.models.event import PayloadFormat
from app.repo.conditions import ENUM, FLAG, TEXT, TIME, Attribute, Condition, apply
from app.repo.lean import LeanStatement

# Every event type a subscription can name, including the wildcard.
WILDCARD = "*"
# What structured filters may name on a webhook list.
WEBHOOK_ATTRIBUTES = {
    "id": Attribute(Webhook.id, TEXT),
    "url": Attribute(Webhook.url, TEXT),
    "description": Attribute(Webhook.description, TEXT),
    "payload_format": Attribute(Webhook.payload_format, ENUM, PayloadFormat.ALL),
    "active": Attribute(Webhook.active, FLAG),
    "created_at": Attribute(Webhook.created_at, TIME),
    "updated_at": Attribute(Webhook.updated_at, TIME),
}


def matches(subscribed: Iterable[str], event_type: str) -> bool:
    """Whether a subscription to `subscribed` event types receives `event_type`."""
    return any(name == WILDCARD or name == event_type for name in subscribed)


def get_webhook(session: Session, webhook_id: str, *, workspace_id: str) -> Webhook | None:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.workspace_id != workspace_id:
        return None
    return webhook


def lock_webhook(session: Session, webhook_id: str) -> Webhook | None:
    """The webhook row, locked for this transaction (PostgreSQL; SQLite's write lock suffices).

    Taking the webhook before any of its deliveries keeps every writer in one lock order, so
    the dispatcher, a deletion and a disable cannot deadlock each other.
    """
    query = select(Webhook).where(Webhook.id == webhook_id).with_for_update()
    return session.exec(query).first()


def lock_webhooks(session: Session, webhook_ids: Iterable[str]) -> dict[str, Webhook]:
    """lock_webhook() for several, taken in id order (every batch writer locks in the same
    order, so two cannot deadlock); a deleted subscription is missing. Read afresh even if
    the session holds them already (a batch written item by item reads its own writes)."""
    query = (select(Webhook).where(col(Webhook.id).in_(sorted(set(webhook_ids))))
             .order_by(col(Webhook.id)).with_for_update()
             .execution_options(populate_existing=True))
    return {webhook.id: webhook for webhook in session.exec(query).all()}


# Prebuilt Core statements, one executemany per batch of finished attempts.
_RESET_FAILURES = LeanStatement(  # a batch of successes writes it: app/repo/lean.py
    update(Webhook)
    .where(col(Webhook.id) == bindparam("b_id"), col(Webhook.consecutive_failures) != 0)
    .values(consecutive_failures=0)
)
_SET_FAILURES = (
    update(Webhook)
    .where(col(Webhook.id) == bindparam("b_id"))
    .values(consecutive_failures=bindparam("b_failures"))
)


def reset_failures(session: Session, webhook_ids: Iterable[str]) -> None:
    """Successes clear the consecutive-failure counts; rows already at zero are not touched
    (so not locked). In id order, as lock_webhooks()."""
    ids = sorted(set(webhook_ids))
    if ids:
        _RESET_FAILURES.execute(session.connection(), [{"b_id": ident} for ident in ids])


def set_failures(session: Session, failures: dict[str, int]) -> None:
    """The consecutive-failure counts of webhooks the caller has locked."""
    if failures:
        session.connection().execute(_SET_FAILURES, [
            {"b_id": ident, "b_failures": count} for ident, count in sorted(failures.items())])


def list_webhooks(
    session: Session,
    *,
    workspace_id: str,
    limit: int,
    before: tuple[datetime, str] | None = None,
    offset: int = 0,
    conditions: Sequence[Condition] = (),
) -> Sequence[Webhook]:
    """Newest first; `before` is the (created_at, id) of the last row of the previous page."""
    query = apply(select(Webhook).where(Webhook.workspace_id == workspace_id),
                  WEBHOOK_ATTRIBUTES, conditions)
    if before:
        at, ident = before
        query = query.where(
            (col(Webhook.created_at) < at)
            | ((col(Webhook.created_at) == at) & (col(Webhook.id) < ident))
        )
    query = query.order_by(col(Webhook.created_at).desc(), col(Webhook.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


def get_delivery(
    session: Session, delivery_id: str, *, workspace_id: str, webhook_id: str
) -> WebhookDelivery | None:
    delivery = session.get(WebhookDelivery, delivery_id)
    if (delivery is None or delivery.workspace_id != workspace_id
            or delivery.webhook_id != webhook_id):
        return None
    return delivery


def list_deliveries(
    session: Session,
    *,
    workspace_id: str,
    webhook_id: str,
    limit: int,
    before: tuple[datetime, str] | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> Sequence[WebhookDelivery]:
    """A subscription's deliveries, newest first (keyset like list_webhooks)."""
    query = select(WebhookDelivery).where(
        WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.webhook_id == webhook_id
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    if event_type:
        query = query.where(WebhookDelivery.event_type == event_type)
    if before:
        at, ident = before
        query = query.where(
            (col(WebhookDelivery.created_at) < at)
            | ((col(WebhookDelivery.created_at) == at) & (col(WebhookDelivery.id) < ident))
        )
    query = query.order_by(
        col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc()
    ).limit(limit)
    return session.exec(query).all()


def attempts_of(
    session: Session, delivery_ids: Sequence[str]
) -> dict[str, list[WebhookAttempt]]:
    """Every attempt of these deliveries, oldest first, by delivery id."""
    found: dict[str, list[WebhookAttempt]] = {ident: [] for ident in delivery_ids}
    if not delivery_ids:
        return found
    query = (
        select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
        .order_by(col(WebhookAttempt.number), col(WebhookAttempt.started_at))
    )
    for attempt in session.exec(query).all():
        found[attempt.delivery_id].append(attempt)
    return found


def latest_delivery_of(session: Session, *, webhook_id: str, event_id: str) -> WebhookDelivery:
    """The newest delivery of an event to a subscription (the one a replay follows)."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.event_id == event_id)
        .order_by(col(WebhookDelivery.created_at).desc(), col(WebhookDelivery.id).desc())
        .limit(1)
    )
    latest = session.exec(query).first()
    assert latest is not None, "called with a delivery of this event in hand"
    return latest


def add_delivery(
    session: Session, *, webhook: Webhook, event: Event, now: datetime, replay_of: str = ""
) -> WebhookDelivery:
    """A pending delivery, due now; the commit wakes the dispatcher."""
    delivery = WebhookDelivery(
        workspace_id=webhook.workspace_id,
        webhook_id=webhook.id,
        event_id=event.id,
        event_type=event.type,
        replay_of=replay_of,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    wakeup.mark(session, wakeup.EVENTS)
    return delivery


def get_event(session: Session, event_id: str) -> Event | None:
    return session.get(Event, event_id)


def fail_pending_deliveries(session: Session, *, webhook_id: str, reason: str) -> int:
    """Give up the deliveries still waiting for an attempt (they stay replayable)."""
    statement = (
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.webhook_id) == webhook_id,
            col(WebhookDelivery.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.FAILED, next_attempt_at=None,
                last_error=f"not sent: {reason}"[:1000])
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount


def delete_webhook(session: Session, webhook: Webhook) -> None:
    """The subscription with its deliveries and their attempts (caller holds the lock)."""
    deliveries = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == webhook.id)
    session.execute(
        delete(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_(deliveries.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    session.execute(
        delete(WebhookDelivery)
        .where(col(WebhookDelivery.webhook_id) == webhook.id)
        .execution_options(synchronize_session=False)
    )
    session.delete(webhook)
