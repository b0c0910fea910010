"""Subscriptions: validation (address guard included), secrets, changes, rotation, deletion."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from sqlmodel import select

from app import crypto
from app.db import read_session, write_session
from app.errors import Conflict, NotFound, ValidationFailed
from app.models import (
    Actor,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from app.services import accounts
from app.services import webhooks as webhooks_service
from app.settings import reset_settings
from app.webhooks import signing
from tests.integration.webhooks.receiver import serve
from tests.integration.webhooks.support import (
    audit_actions,
    deliveries,
    dispatcher,
    emit,
    subscribe,
    verify,
    webhook,
)
from tests.receiver import Reply

FORBIDDEN = [
    "http://10.1.2.3/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:8080/",
    "http://[::ffff:10.0.0.1]/",
    "http://167772161/",
    "http://192.168.1.10/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://224.0.0.1/",
    "http://0.0.0.0/",
    "ftp://example.com/",
    "not a url",
]
# Allowed by the test settings (ALLOWED_NETWORKS=127.0.0.0/8), refused without them.
LOOPBACK_FORMS = [
    "http://127.0.0.1:9/hook",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://localhost:9/hook",
    "http://api.localhost/",
]


def create(world: Any, **fields: Any) -> webhooks_service.WebhookWithSecret:
    with write_session() as session:
        return webhooks_service.create_webhook(session, workspace_id=world.workspace_id,
                                               actor=world.actor, **fields)


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_forbidden_target_is_refused_at_subscription_time(sqlite_db: str, url: str) -> None:
    from tests.support import World

    world = World.create()
    with pytest.raises(ValidationFailed) as caught:
        create(world, url=url)
    assert [e.field for e in caught.value.errors] == ["url"]
    assert caught.value.errors[0].code == "refused"


def test_loopback_is_allowed_only_through_allowed_networks(
        sqlite_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support import World

    world = World.create()
    assert create(world, url="http://127.0.0.1:9/hook").webhook.url == "http://127.0.0.1:9/hook"
    monkeypatch.setenv("ALLOWED_NETWORKS", "")
    reset_settings()
    for url in LOOPBACK_FORMS:
        with pytest.raises(ValidationFailed, match="refused"):
            create(world, url=url)


def test_the_secret_is_returned_once_and_stored_encrypted(world: Any) -> None:
    created = create(world, url="https://example.com/hook", description="CRM sync")
    assert created.secret.startswith("whsec_")
    stored = webhook(created.webhook.id)
    assert created.secret not in stored.secret_encrypted
    assert crypto.decrypt(stored.secret_encrypted) == created.secret
    assert stored.events == ["*"] and stored.active and stored.version == 1
    assert stored.description == "CRM sync"
    assert audit_actions(world.workspace_id, stored.id) == ["webhook.created"]


def test_event_types_are_validated_and_deduplicated(sqlite_world: Any) -> None:
    url = "https://example.com/"
    created = create(sqlite_world, url=url,
                     events=["run.completed", "run.completed", "form.submitted"])
    assert created.webhook.events == ["run.completed", "form.submitted"]
    wildcard = create(sqlite_world, url=url, events=["run.flagged", "*"])
    assert wildcard.webhook.events == ["*"]
    with pytest.raises(ValidationFailed) as caught:
        create(sqlite_world, url=url, events=["run.finished", "workflow.executed"])
    assert [e.field for e in caught.value.errors] == ["events", "events"]
    assert "run.finished" in caught.value.errors[0].message
    with pytest.raises(ValidationFailed):
        create(sqlite_world, url=url, events=[])


def test_a_callers_own_secret_is_the_hmac_key(sqlite_world: Any) -> None:
    """Seed 002's shape: the caller brings a plain secret and verifies with it."""
    with serve() as receiver:
        created = create(sqlite_world, url=receiver.url, secret="my-own-webhook-secret")
        emit(sqlite_world.workspace_id)
        dispatcher().run_until_idle()
    (received,) = receiver.received
    verify(received, b"my-own-webhook-secret")
    headers = received.headers
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + received.body
    digest = hmac.new(b"my-own-webhook-secret", signed, hashlib.sha256).digest()
    assert headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
    assert created.secret == "whsec_" + base64.b64encode(b"my-own-webhook-secret").decode()
    with pytest.raises(ValidationFailed):
        create(sqlite_world, url=receiver.url, secret="short")


def test_update_changes_fields_and_checks_the_version(world: Any) -> None:
    hook_id = create(world, url="https://example.com/a").webhook.id
    with write_session() as session:
        updated = webhooks_service.update_webhook(
            session, workspace_id=world.workspace_id, webhook_id=hook_id, actor=world.actor,
            expected_version=1, url="https://example.com/b", events=["run.completed"],
            description="new")
    assert (updated.url, updated.events, updated.description, updated.version) == (
        "https://example.com/b", ["run.completed"], "new", 2)
    with write_session() as session, pytest.raises(Conflict, match="version 2"):
        webhooks_service.update_webhook(session, workspace_id=world.workspace_id,
                                        webhook_id=hook_id, actor=world.actor,
                                        expected_version=1, description="stale")
    with write_session() as session, pytest.raises(ValidationFailed):
        webhooks_service.update_webhook(session, workspace_id=world.workspace_id,
                                        webhook_id=hook_id, actor=world.actor,
                                        url="http://10.0.0.1/")
    assert webhook(hook_id).version == 2
    assert audit_actions(world.workspace_id, hook_id) == ["webhook.created", "webhook.updated"]


def test_turning_off_gives_up_waiting_deliveries_and_on_again_resets(world: Any) -> None:
    with serve(Reply(500)) as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        dispatcher().run_until_idle()
    assert deliveries(hook_id)[0].status == DeliveryStatus.PENDING
    for active in (False, True):
        with write_session() as session:
            webhooks_service.update_webhook(session, workspace_id=world.workspace_id,
                                            webhook_id=hook_id, actor=world.actor,
                                            active=active)
        if not active:
            hook = webhook(hook_id)
            assert hook.disabled_reason == "turned off by admin@acme.test"
            (delivery,) = deliveries(hook_id)
            assert delivery.status == DeliveryStatus.FAILED
            assert "turned off" in (delivery.last_error or "")
    hook = webhook(hook_id)
    assert hook.active and hook.disabled_reason is None and hook.consecutive_failures == 0


def test_rotation_signs_with_both_secrets_during_the_overlap(world: Any) -> None:
    with serve() as receiver:
        hook_id, old = subscribe(world, receiver.url)
        with write_session() as session:
            rotated = webhooks_service.rotate_secret(session, workspace_id=world.workspace_id,
                                                     webhook_id=hook_id, actor=world.actor,
                                                     overlap_s=3600)
        new = rotated.secret
        assert new != old and new.startswith("whsec_")
        emit(world.workspace_id)
        dispatcher().run_until_idle()
        world.advance(3601)
        emit(world.workspace_id)
        dispatcher(clock=world.now).run_until_idle()
    during, after = receiver.received
    verify(during, old)
    verify(during, new)
    assert len(during.headers["webhook-signature"].split()) == 2
    assert len(after.headers["webhook-signature"].split()) == 1
    # Signed an hour ahead (the test's clock): verify at that time.
    at = float(after.headers["webhook-timestamp"])
    signing.verify(new, after.headers, after.body, now=at)
    with pytest.raises(signing.SignatureInvalid):
        signing.verify(old, after.headers, after.body, now=at)
    assert "webhook.secret_rotated" in audit_actions(world.workspace_id, hook_id)


def test_delete_removes_the_subscription_and_its_log(world: Any) -> None:
    with serve() as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        dispatcher().run_until_idle()
    with write_session() as session:
        webhooks_service.delete_webhook(session, workspace_id=world.workspace_id,
                                        webhook_id=hook_id, actor=world.actor)
    with read_session() as session:
        assert session.get(Webhook, hook_id) is None
        assert session.exec(select(WebhookDelivery)).all() == []
        assert session.exec(select(WebhookAttempt)).all() == []
    assert audit_actions(world.workspace_id, hook_id)[-1] == "webhook.deleted"
    with write_session() as session, pytest.raises(NotFound):
        webhooks_service.delete_webhook(session, workspace_id=world.workspace_id,
                                        webhook_id=hook_id, actor=world.actor)


def test_another_workspace_cannot_see_or_touch_a_subscription(world: Any) -> None:
    hook_id = create(world, url="https://example.com/").webhook.id
    with write_session() as session:
        other = accounts.create_workspace(session, name="Other", actor=Actor.system()).id
    with read_session() as session:
        with pytest.raises(NotFound):
            webhooks_service.get_webhook(session, workspace_id=other, webhook_id=hook_id)
        assert webhooks_service.list_webhooks(session, workspace_id=other, limit=10) == []
        with pytest.raises(NotFound):
            webhooks_service.list_deliveries(session, workspace_id=other, webhook_id=hook_id,
                                             limit=10)
    for call in (webhooks_service.rotate_secret, webhooks_service.send_test_event,
                 webhooks_service.delete_webhook):
        with write_session() as session, pytest.raises(NotFound):
            call(session, workspace_id=other, webhook_id=hook_id, actor=world.actor)


def test_lists_are_newest_first_with_a_keyset(world: Any) -> None:
    ids = [create(world, url=f"https://example.com/{n}").webhook.id for n in range(3)]
    with read_session() as session:
        first = webhooks_service.list_webhooks(session, workspace_id=world.workspace_id,
                                               limit=2)
        last = first[-1]
        rest = webhooks_service.list_webhooks(session, workspace_id=world.workspace_id,
                                              limit=2, before=(last.created_at, last.id))
    assert [w.id for w in first + rest] == ids[::-1]
