"""Helpers for the webhook tests: subscriptions, events, a dispatcher on loopback, and
verification of every received delivery with the `standardwebhooks` package."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import httpx
from sqlmodel import col, select
from standardwebhooks import Webhook as StandardWebhook

from app.clock import utcnow
from app.db import read_session, write_session
from app.models import AuditLog, Webhook, WebhookAttempt, WebhookDelivery
from app.repo import events
from app.services import webhooks as webhooks_service
from app.webhooks.dispatcher import Dispatcher
from app.webhooks.outbound import make_transport
from tests.receiver import Received
from tests.support import World

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


def subscribe(world: World, url: str, events: Sequence[str] | None = None,
              **options: Any) -> tuple[str, str]:
    """A subscription in the world's workspace: (webhook id, secret)."""
    with write_session() as session:
        created = webhooks_service.create_webhook(
            session, workspace_id=world.workspace_id, actor=world.actor, url=url,
            events=events, **options)
    return created.webhook.id, created.secret


def emit(workspace_id: str, type: str = "run.completed", **data: Any) -> str:
    """An outbox event, as the engine writes it; returns its id."""
    with write_session() as session:
        event = events.emit(session, type=type, workspace_id=workspace_id,
                            data=data or {"status": "COMPLETED"}, run_id="run_test",
                            workflow_id="wf_test")
        session.commit()
    return event.id


def dispatcher(*, clock: Callable[[], datetime] = utcnow, timeout_s: float = 5.0,
               retry_scale: float = 1.0, max_failures: int = 20,
               transport: httpx.BaseTransport | None = None,
               allowed: Sequence[Any] = LOOPBACK, **options: Any) -> Dispatcher:
    """A dispatcher whose transport is the app's guarded one (loopback allowed) or
    `transport`."""
    return Dispatcher(transport=transport or make_transport(allowed_networks=allowed),
                      clock=clock, timeout_s=timeout_s, retry_scale=retry_scale,
                      max_failures=max_failures, owns_transport=True, **options)


def verify(received: Received, secret: str | bytes) -> dict[str, Any]:
    """Verify a delivery with the standardwebhooks package, unchanged; the parsed body."""
    payload = StandardWebhook(secret).verify(received.body, received.headers)
    assert isinstance(payload, dict)
    return payload


def verify_all(received: Sequence[Received], secret: str | bytes) -> list[dict[str, Any]]:
    return [verify(item, secret) for item in received]


def webhook(webhook_id: str) -> Webhook:
    with read_session() as session:
        row = session.get(Webhook, webhook_id)
        assert row is not None
        return row


def deliveries(webhook_id: str) -> list[WebhookDelivery]:
    with read_session() as session:
        query = (select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
                 .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id)))
        return list(session.exec(query).all())


def attempts(delivery_id: str) -> list[WebhookAttempt]:
    with read_session() as session:
        query = (select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id)
                 .order_by(col(WebhookAttempt.number)))
        return list(session.exec(query).all())


def audit_actions(workspace_id: str, resource_id: str) -> list[str]:
    with read_session() as session:
        query = (select(AuditLog).where(AuditLog.workspace_id == workspace_id,
                                        AuditLog.resource_id == resource_id)
                 .order_by(col(AuditLog.created_at), col(AuditLog.id)))
        return [row.action for row in session.exec(query).all()]


def body_of(received: Received) -> dict[str, Any]:
    return json.loads(received.body)
