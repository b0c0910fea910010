"""Webhook settings for signed-in members: subscriptions, the delivery log, replay and test
pings, role-checked and shaped for pages (a secret only at creation or rotation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session

from app.clock import iso
from app.models import Actor, DeliveryStatus, Webhook, WebhookDelivery
from app.services import permissions, webhooks

LIST_LIMIT = 100
DELIVERY_LIMIT = 25


@dataclass(frozen=True)
class WebhookRow:
    id: str
    url: str
    description: str
    events: list[str]
    active: bool
    disabled_reason: str
    consecutive_failures: int
    created_at: str


@dataclass(frozen=True)
class DeliveryRow:
    id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    status_code: str
    latency: str
    error: str
    created_at: str
    delivered_at: str
    next_attempt_at: str
    replay: bool


def _row(webhook: Webhook) -> WebhookRow:
    return WebhookRow(id=webhook.id, url=webhook.url, description=webhook.description or "",
                      events=list(webhook.events), active=webhook.active,
                      disabled_reason=webhook.disabled_reason or "",
                      consecutive_failures=webhook.consecutive_failures,
                      created_at=iso(webhook.created_at) or "")


def _delivery_row(d: WebhookDelivery) -> DeliveryRow:
    return DeliveryRow(
        id=d.id, event_id=d.event_id, event_type=d.event_type, status=d.status,
        attempts=d.attempts,
        status_code="" if d.last_status_code is None else str(d.last_status_code),
        latency="" if d.last_latency_ms is None else f"{d.last_latency_ms:.0f} ms",
        error=(d.last_error or "")[:300], created_at=iso(d.created_at) or "",
        delivered_at=iso(d.delivered_at) or "",
        next_attempt_at=(iso(d.next_attempt_at) or "") if d.status == DeliveryStatus.PENDING
        else "",
        replay=bool(d.replay_of))


def list_subscriptions(session: Session, *, actor: Actor) -> list[WebhookRow]:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    return [_row(w) for w in webhooks.list_webhooks(session, workspace_id=actor.workspace_id,
                                                    limit=LIST_LIMIT)]


def subscribe(session: Session, *, actor: Actor, url: str, events: Sequence[str],
              description: str = "") -> tuple[WebhookRow, str]:
    """Create a subscription; returns it and its secret (shown this once)."""
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    created = webhooks.create_webhook(session, workspace_id=actor.workspace_id,
                                      actor=actor, url=url, events=list(events),
                                      description=description)
    return _row(created.webhook), created.secret


def set_active(session: Session, *, actor: Actor, webhook_id: str, active: bool) -> None:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    webhooks.update_webhook(session, workspace_id=actor.workspace_id, webhook_id=webhook_id,
                            actor=actor, active=active)


def unsubscribe(session: Session, *, actor: Actor, webhook_id: str) -> None:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    webhooks.delete_webhook(session, workspace_id=actor.workspace_id, webhook_id=webhook_id,
                            actor=actor)


def rotate(session: Session, *, actor: Actor, webhook_id: str) -> str:
    """A new secret (the old one keeps signing during the overlap); shown this once."""
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    return webhooks.rotate_secret(session, workspace_id=actor.workspace_id,
                                  webhook_id=webhook_id, actor=actor).secret


def deliveries(session: Session, *, actor: Actor, webhook_id: str) -> list[DeliveryRow]:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    logs = webhooks.list_deliveries(session, workspace_id=actor.workspace_id,
                                    webhook_id=webhook_id, limit=DELIVERY_LIMIT)
    return [_delivery_row(log.delivery) for log in logs]


def replay(session: Session, *, actor: Actor, webhook_id: str, delivery_id: str) -> None:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    webhooks.replay_delivery(session, workspace_id=actor.workspace_id, webhook_id=webhook_id,
                             delivery_id=delivery_id, actor=actor)


def send_test(session: Session, *, actor: Actor, webhook_id: str) -> None:
    permissions.require(actor.role, permissions.SEE_SETTINGS)
    webhooks.send_test_event(session, workspace_id=actor.workspace_id, webhook_id=webhook_id,
                             actor=actor)
