"""Webhook subscriptions (create, change, rotate the secret, delete), the delivery log,
replay and test pings. The secret is encrypted at rest and shown only at creation and rotation.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import crypto
from app.clock import iso, utcnow
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import (
    EVENT_TYPES,
    Actor,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.models.event import PayloadFormat
from app.repo import audit, events
from app.repo import webhooks as webhooks_repo
from app.settings import get_settings
from app.webhooks import signing
from app.webhooks.address_guard import AddressRefused, check_url

WILDCARD = webhooks_repo.WILDCARD
TEST_EVENT_TYPE = "webhook.test"
MAX_URL_CHARS = 2000
MAX_DESCRIPTION_CHARS = 500
# A secret the caller brings (seed 002's shape) must be at least this long.
MIN_OWN_SECRET_CHARS = 16
MAX_OWN_SECRET_CHARS = 200


@dataclass(frozen=True)
class WebhookWithSecret:
    """A subscription and its plaintext secret: returned once, at creation or rotation."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True)
class DeliveryLog:
    """A delivery and every attempt at it, oldest first."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


def create_webhook(
    session: Session,
    *,
    workspace_id: str,
    actor: Actor,
    url: str,
    events: Sequence[str] | None = None,
    description: str = "",
    secret: str | None = None,
    payload_format: str = PayloadFormat.STANDARD,
) -> WebhookWithSecret:
    """Subscribe `url` to `events` (default every event, `*`)."""
    problems: list[FieldError] = []
    url = _checked_url(url or "", problems)
    wanted = _checked_events(["*"] if events is None else events, problems)
    description = _checked_description(description or "", problems)
    plain = _checked_secret(secret, problems)
    if payload_format not in PayloadFormat.ALL:
        problems.append(FieldError("payload_format",
                                   f"must be one of {', '.join(PayloadFormat.ALL)}"))
    if problems:
        raise ValidationFailed("The webhook is invalid", errors=problems)
    now = utcnow()
    webhook = Webhook(workspace_id=workspace_id, url=url, events=wanted, description=description,
                      secret_encrypted=crypto.encrypt(plain), payload_format=payload_format,
                      created_at=now, updated_at=now)
    session.add(webhook)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="webhook.created",
                 resource_type="webhook", resource_id=webhook.id,
                 details={"url": url, "events": wanted})
    session.commit()
    return WebhookWithSecret(webhook=webhook, secret=plain)


def get_webhook(session: Session, *, workspace_id: str, webhook_id: str) -> Webhook:
    webhook = webhooks_repo.get_webhook(session, webhook_id, workspace_id=workspace_id)
    if webhook is None:
        raise not_found("webhook", webhook_id)
    return webhook


def list_webhooks(session: Session, *, workspace_id: str, limit: int,
                  before: tuple[datetime, str] | None = None) -> list[Webhook]:
    """Newest first; `before` is the (created_at, id) of the previous page's last row."""
    return list(webhooks_repo.list_webhooks(session, workspace_id=workspace_id, limit=limit,
                                            before=before))


def update_webhook(
    session: Session,
    *,
    workspace_id: str,
    webhook_id: str,
    actor: Actor,
    expected_version: int | None = None,
    url: str | None = None,
    events: Sequence[str] | None = None,
    active: bool | None = None,
    description: str | None = None,
) -> Webhook:
    """Change the given fields (None leaves one as it is); 409 if `expected_version` is stale.

    Turning a subscription off gives up its waiting deliveries (they stay replayable);
    turning it back on clears the reason and the failure count.
    """
    webhook = _locked(session, workspace_id, webhook_id)
    if expected_version is not None and expected_version != webhook.version:
        raise Conflict(f"webhook '{webhook_id}' is at version {webhook.version}, "
                       f"not {expected_version}: fetch it again", extra={
                           "current_version": webhook.version})
    problems: list[FieldError] = []
    changes = {
        "url": None if url is None else _checked_url(url, problems),
        "events": None if events is None else _checked_events(events, problems),
        "description": None if description is None else _checked_description(description,
                                                                               problems),
        "active": active,
    }
    if problems:
        raise ValidationFailed("The webhook is invalid", errors=problems)
    changed = sorted(name for name, value in changes.items()
                     if value is not None and getattr(webhook, name) != value)
    if not changed:
        return webhook
    for name in changed:
        setattr(webhook, name, changes[name])
    if "active" in changed:
        _switched(session, webhook, actor)
    webhook.version += 1
    webhook.updated_at = utcnow()
    session.add(webhook)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="webhook.updated",
                 resource_type="webhook", resource_id=webhook.id,
                 details={"changed": changed, **{name: changes[name] for name in changed}})
    session.commit()
    return webhook


def delete_webhook(session: Session, *, workspace_id: str, webhook_id: str, actor: Actor) -> None:
    """The subscription goes, with its delivery log; an attempt in flight is not recorded."""
    webhook = _locked(session, workspace_id, webhook_id)
    webhooks_repo.delete_webhook(session, webhook)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="webhook.deleted",
                 resource_type="webhook", resource_id=webhook_id, details={"url": webhook.url})
    session.commit()


def rotate_secret(session: Session, *, workspace_id: str, webhook_id: str, actor: Actor,
                  overlap_s: float | None = None) -> WebhookWithSecret:
    """A new secret; the old one also signs for `overlap_s` (default from settings).

    Rotating again within the overlap drops the oldest secret: only two ever sign.
    """
    webhook = _locked(session, workspace_id, webhook_id)
    overlap = get_settings().webhook_secret_overlap_s if overlap_s is None else overlap_s
    now = utcnow()
    plain = signing.generate_secret()
    if overlap > 0:
        webhook.previous_secret_encrypted = webhook.secret_encrypted
        webhook.previous_secret_expires_at = now + timedelta(seconds=overlap)
    else:
        webhook.previous_secret_encrypted = None
        webhook.previous_secret_expires_at = None
    webhook.secret_encrypted = crypto.encrypt(plain)
    webhook.version += 1
    webhook.updated_at = now
    session.add(webhook)
    audit.record(session, workspace_id=workspace_id, actor=actor,
                 action="webhook.secret_rotated", resource_type="webhook",
                 resource_id=webhook.id,
                 details={"previous_secret_valid_until": iso(webhook.previous_secret_expires_at)})
    session.commit()
    return WebhookWithSecret(webhook=webhook, secret=plain)


def list_deliveries(
    session: Session,
    *,
    workspace_id: str,
    webhook_id: str,
    limit: int,
    before: tuple[datetime, str] | None = None,
    status: str | None = None,
    event_type: str | None = None,
) -> list[DeliveryLog]:
    """A subscription's deliveries, newest first, each with its attempts."""
    get_webhook(session, workspace_id=workspace_id, webhook_id=webhook_id)
    if status is not None and status not in DeliveryStatus.ALL:
        raise ValidationFailed("Unknown delivery status", errors=[FieldError(
            "status", f"must be one of {', '.join(DeliveryStatus.ALL)}")])
    rows = webhooks_repo.list_deliveries(session, workspace_id=workspace_id,
                                         webhook_id=webhook_id, limit=limit, before=before,
                                         status=status, event_type=event_type)
    attempts = webhooks_repo.attempts_of(session, [row.id for row in rows])
    return [DeliveryLog(delivery=row, attempts=attempts[row.id]) for row in rows]


def get_delivery(session: Session, *, workspace_id: str, webhook_id: str,
                 delivery_id: str) -> DeliveryLog:
    delivery = webhooks_repo.get_delivery(session, delivery_id, workspace_id=workspace_id,
                                          webhook_id=webhook_id)
    if delivery is None:
        raise not_found("delivery", delivery_id)
    attempts = webhooks_repo.attempts_of(session, [delivery.id])[delivery.id]
    return DeliveryLog(delivery=delivery, attempts=attempts)


def replay_delivery(session: Session, *, workspace_id: str, webhook_id: str, delivery_id: str,
                    actor: Actor) -> WebhookDelivery:
    """A new delivery of the same event (same `webhook-id`), due now.

    One delivery of an event to a subscription runs at a time: replaying while the latest is
    still waiting or in flight is a 409.
    """
    webhook = _locked(session, workspace_id, webhook_id)
    _require_active(webhook)
    original = webhooks_repo.get_delivery(session, delivery_id, workspace_id=workspace_id,
                                          webhook_id=webhook_id)
    event = None if original is None else webhooks_repo.get_event(session, original.event_id)
    if original is None or event is None:
        raise not_found("delivery", delivery_id)
    latest = webhooks_repo.latest_delivery_of(session, webhook_id=webhook.id, event_id=event.id)
    if latest.status in (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING):
        raise Conflict(f"delivery '{latest.id}' of this event is still {latest.status}: "
                       "wait for it to finish before replaying")
    replay = webhooks_repo.add_delivery(session, webhook=webhook, event=event, now=utcnow(),
                                        replay_of=latest.id)
    audit.record(session, workspace_id=workspace_id, actor=actor,
                 action="webhook.delivery_replayed", resource_type="webhook",
                 resource_id=webhook.id,
                 details={"delivery_id": delivery_id, "replay_id": replay.id,
                          "event_id": event.id})
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent replay of the same delivery won
        session.rollback()
        raise Conflict("this delivery is being replayed already") from exc
    return replay


def send_test_event(session: Session, *, workspace_id: str, webhook_id: str,
                    actor: Actor) -> WebhookDelivery:
    """A `webhook.test` event delivered to this subscription only."""
    webhook = _locked(session, workspace_id, webhook_id)
    _require_active(webhook)
    now = utcnow()
    event = events.emit(session, type=TEST_EVENT_TYPE, workspace_id=workspace_id, data={
        "webhook_id": webhook.id,
        "message": "A test event: your endpoint is reachable and can verify signatures.",
        "requested_by": actor.display,
    })
    # Already "fanned out": no other subscription, even a `*` one, receives a test ping.
    event.fanned_out_at = now
    delivery = webhooks_repo.add_delivery(session, webhook=webhook, event=event, now=now)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="webhook.tested",
                 resource_type="webhook", resource_id=webhook.id,
                 details={"event_id": event.id, "delivery_id": delivery.id})
    session.commit()
    return delivery


# -- helpers ------------------------------------------------------------------------------


def _locked(session: Session, workspace_id: str, webhook_id: str) -> Webhook:
    webhook = webhooks_repo.lock_webhook(session, webhook_id)
    if webhook is None or webhook.workspace_id != workspace_id:
        raise not_found("webhook", webhook_id)
    return webhook


def _require_active(webhook: Webhook) -> None:
    if not webhook.active:
        reason = f" ({webhook.disabled_reason})" if webhook.disabled_reason else ""
        raise Conflict(f"webhook '{webhook.id}' is disabled{reason}: turn it back on "
                       "(active: true) first")


def _switched(session: Session, webhook: Webhook, actor: Actor) -> None:
    if webhook.active:
        webhook.disabled_reason = None
        webhook.consecutive_failures = 0
        return
    webhook.disabled_reason = f"turned off by {actor.display}"[:MAX_DESCRIPTION_CHARS]
    webhooks_repo.fail_pending_deliveries(session, webhook_id=webhook.id,
                                          reason="the subscription was turned off")


def _checked_url(url: str, problems: list[FieldError]) -> str:
    url = url.strip()
    if not url:
        problems.append(FieldError("url", "is required", "required"))
    elif len(url) > MAX_URL_CHARS:
        problems.append(FieldError("url", f"is longer than {MAX_URL_CHARS} characters"))
    else:
        try:
            check_url(url, get_settings().allowed_networks)
        except AddressRefused as exc:
            problems.append(FieldError("url", str(exc), "refused"))
    return url


def _checked_events(names: Sequence[str], problems: list[FieldError]) -> list[str]:
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        problems.append(FieldError("events", "must be a list of event types"))
        return []
    if not names:
        problems.append(FieldError("events", f"name at least one event type, or '{WILDCARD}'",
                                   "required"))
        return []
    unknown = [name for name in names if name != WILDCARD and name not in EVENT_TYPES]
    for name in unknown:
        problems.append(FieldError("events", f"unknown event type '{name}'; known: "
                                   f"{', '.join(EVENT_TYPES)} or '{WILDCARD}'"))
    if WILDCARD in names:
        return [WILDCARD]
    return list(dict.fromkeys(names))


def _checked_description(description: str, problems: list[FieldError]) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        problems.append(FieldError("description",
                                   f"is longer than {MAX_DESCRIPTION_CHARS} characters"))
    return description


def _checked_secret(secret: str | None, problems: list[FieldError]) -> str:
    """A new secret, or the caller's own: `whsec_<base64>`, or any string whose UTF-8 bytes
    become the HMAC key (returned in whsec_ form for Standard Webhooks libraries)."""
    if secret is None:
        return signing.generate_secret()
    if secret.startswith(signing.SECRET_PREFIX):
        try:
            signing.sign(secret, "msg", 0, b"")
        except ValueError as exc:
            problems.append(FieldError("secret", str(exc)))
        return secret
    if not MIN_OWN_SECRET_CHARS <= len(secret) <= MAX_OWN_SECRET_CHARS:
        problems.append(FieldError("secret", f"must be {MIN_OWN_SECRET_CHARS} to "
                                   f"{MAX_OWN_SECRET_CHARS} characters"))
    return signing.SECRET_PREFIX + base64.b64encode(secret.encode()).decode("ascii")
