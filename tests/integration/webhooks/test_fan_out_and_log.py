"""Fan-out by type and workspace, the delivery log, replay, test pings, leases, refusals."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest

from app.db import read_session, write_session
from app.errors import Conflict
from app.models import Actor, DeliveryStatus
from app.services import accounts
from app.services import webhooks as webhooks_service
from tests.integration.webhooks.receiver import serve
from tests.integration.webhooks.support import (
    attempts,
    audit_actions,
    deliveries,
    dispatcher,
    emit,
    subscribe,
    verify,
    verify_all,
    webhook,
)
from tests.receiver import Reply
from tests.support import World


def test_events_go_to_matching_subscriptions_of_their_own_workspace(world: Any) -> None:
    with write_session() as session:
        other = accounts.create_workspace(session, name="Other", actor=Actor.system()).id
    with serve() as everything, serve() as completions, serve() as elsewhere:
        _, all_secret = subscribe(world, everything.url, ["*"])
        _, done_secret = subscribe(world, completions.url, ["run.completed", "run.flagged"])
        subscribe(World(workspace_id=other, admin_id="", approver_id="",
                        actor=Actor.system()), elsewhere.url, ["*"])
        started = emit(world.workspace_id, "run.started")
        completed = emit(world.workspace_id, "run.completed")
        submitted = emit(world.workspace_id, "form.submitted")
        dispatcher().run_until_idle()
    assert sorted(p["id"] for p in verify_all(everything.received, all_secret)) == sorted(
        [started, completed, submitted])
    assert [p["id"] for p in verify_all(completions.received, done_secret)] == [completed]
    assert elsewhere.received == []


def test_a_subscription_only_receives_events_after_it_was_created(world: Any) -> None:
    with serve() as receiver:
        emit(world.workspace_id)
        hook_id, _ = subscribe(world, receiver.url)
        later = emit(world.workspace_id)
        dispatcher().run_until_idle()
    assert [r.headers["webhook-id"] for r in receiver.received] == [later]
    assert len(deliveries(hook_id)) == 1


def test_an_event_is_fanned_out_once_even_by_two_dispatchers(world: Any) -> None:
    with serve() as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        first, second = dispatcher(), dispatcher()
        assert first.fan_out() == 1
        assert second.fan_out() == 0
        first.run_until_idle()
        second.run_until_idle()
    assert len(receiver.received) == 1 and len(deliveries(hook_id)) == 1


def test_replay_delivers_again_with_the_same_webhook_id(world: Any) -> None:
    with serve(Reply(500), Reply(200)) as receiver:
        hook_id, secret = subscribe(world, receiver.url)
        event_id = emit(world.workspace_id)
        dispatcher(max_failures=100).run_until_idle()
        (failed,) = deliveries(hook_id)
        with write_session() as session:
            webhooks_service.update_webhook(session, workspace_id=world.workspace_id,
                                            webhook_id=hook_id, actor=world.actor, active=False)
        with write_session() as session:
            webhooks_service.update_webhook(session, workspace_id=world.workspace_id,
                                            webhook_id=hook_id, actor=world.actor, active=True)
        assert deliveries(hook_id)[0].status == DeliveryStatus.FAILED
        with write_session() as session:
            replay = webhooks_service.replay_delivery(
                session, workspace_id=world.workspace_id, webhook_id=hook_id,
                delivery_id=failed.id, actor=world.actor)
        dispatcher().run_until_idle()
    assert [r.headers["webhook-id"] for r in receiver.received] == [event_id, event_id]
    verify(receiver.received[1], secret)
    with read_session() as session:
        log = webhooks_service.list_deliveries(session, workspace_id=world.workspace_id,
                                               webhook_id=hook_id, limit=10)
    assert [entry.delivery.id for entry in log] == [replay.id, failed.id]
    assert log[0].delivery.replay_of == failed.id
    assert log[0].delivery.status == DeliveryStatus.SUCCEEDED
    assert [(a.number, a.status_code) for a in log[0].attempts] == [(1, 200)]
    assert [(a.number, a.status_code) for a in log[1].attempts] == [(1, 500)]
    assert "webhook.delivery_replayed" in audit_actions(world.workspace_id, hook_id)


def test_a_delivery_can_be_replayed_again_but_not_while_one_is_waiting(world: Any) -> None:
    with serve() as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        dispatcher().run_until_idle()
        (original,) = deliveries(hook_id)

        def replay() -> str:
            with write_session() as session:
                return webhooks_service.replay_delivery(
                    session, workspace_id=world.workspace_id, webhook_id=hook_id,
                    delivery_id=original.id, actor=world.actor).id

        first = replay()
        with pytest.raises(Conflict, match="still pending"):
            replay()
        dispatcher().run_until_idle()
        second = replay()
        dispatcher().run_until_idle()
    assert len(receiver.received) == 3
    chain = {d.id: d.replay_of for d in deliveries(hook_id)}
    assert chain == {original.id: "", first: original.id, second: first}


def test_a_test_ping_goes_to_that_subscription_only(world: Any) -> None:
    with serve() as target, serve() as bystander:
        hook_id, secret = subscribe(world, target.url, ["run.completed"])
        subscribe(world, bystander.url, ["*"])
        with write_session() as session:
            delivery = webhooks_service.send_test_event(
                session, workspace_id=world.workspace_id, webhook_id=hook_id, actor=world.actor)
        dispatcher().run_until_idle()
    (received,) = target.received
    payload = verify(received, secret)
    assert payload["event"] == "webhook.test" and payload["data"]["webhook_id"] == hook_id
    assert bystander.received == []
    assert deliveries(hook_id)[0].id == delivery.id
    assert deliveries(hook_id)[0].status == DeliveryStatus.SUCCEEDED


def test_a_disabled_subscription_refuses_pings_and_replays(world: Any) -> None:
    with serve(Reply(410)) as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        dispatcher().run_until_idle()
    assert not webhook(hook_id).active
    with write_session() as session, pytest.raises(Conflict, match="410"):
        webhooks_service.send_test_event(session, workspace_id=world.workspace_id,
                                         webhook_id=hook_id, actor=world.actor)
    with write_session() as session, pytest.raises(Conflict):
        webhooks_service.replay_delivery(session, workspace_id=world.workspace_id,
                                         webhook_id=hook_id,
                                         delivery_id=deliveries(hook_id)[0].id,
                                         actor=world.actor)


def test_a_refused_address_is_a_failed_attempt_without_any_connection(world: Any) -> None:
    with serve() as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        # The subscription passed the check; the network list changed since (no allowlist).
        dispatcher(allowed=()).run_until_idle()
    assert receiver.received == []
    (delivery,) = deliveries(hook_id)
    assert delivery.status == DeliveryStatus.PENDING
    (attempt,) = attempts(delivery.id)
    assert attempt.status_code is None
    assert attempt.error is not None and attempt.error.startswith("refused: 127.0.0.1 is")
    assert "a loopback address" in attempt.error
    assert attempt.error.endswith("(no connection was attempted)")


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_record(world: Any) -> None:
    with serve() as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        crashed = dispatcher(clock=world.now, lease_s=30)
        crashed.fan_out()
        (lost,) = crashed.claim(10)
        assert crashed.claim(10) == []  # leased
        world.advance(31)
        survivor = dispatcher(clock=world.now)
        assert survivor.run_until_idle() == 1
        crashed.deliver(lost)  # the crashed holder comes back: its result is refused
    (delivery,) = deliveries(hook_id)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert [a.number for a in attempts(delivery.id)] == [2]
    assert len(receiver.received) == 2  # at least once: the receiver dedupes on webhook-id
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers[
        "webhook-id"]


def test_the_delivery_log_shows_status_code_latency_and_next_attempt(world: Any) -> None:
    with serve(Reply(503, body=b"maintenance until noon")) as receiver:
        hook_id, _ = subscribe(world, receiver.url, description="ops")
        emit(world.workspace_id)
        dispatcher(clock=world.now).run_until_idle()
    with read_session() as session:
        (entry,) = webhooks_service.list_deliveries(session, workspace_id=world.workspace_id,
                                                    webhook_id=hook_id, limit=10,
                                                    status=DeliveryStatus.PENDING)
        assert webhooks_service.list_deliveries(
            session, workspace_id=world.workspace_id, webhook_id=hook_id, limit=10,
            status=DeliveryStatus.SUCCEEDED) == []
    delivery = entry.delivery
    assert delivery.event_type == "run.completed" and delivery.attempts == 1
    assert delivery.last_status_code == 503 and delivery.last_latency_ms is not None
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at - entry.attempts[0].started_at >= timedelta(seconds=1)
    assert entry.attempts[0].response_excerpt == "maintenance until noon"


def test_a_name_that_resolves_to_loopback_is_refused_at_connect_time(
        sqlite_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS changed after the subscription was checked: the resolved address is checked again."""
    real = socket.getaddrinfo

    def rebound(host: str, *args: Any, **kwargs: Any) -> Any:
        return real("127.0.0.1" if host == "hooks.example.com" else host, *args, **kwargs)

    with serve() as receiver:
        hook_id, _ = subscribe(sqlite_world, f"http://hooks.example.com:{receiver.port}/in")
        monkeypatch.setattr(socket, "getaddrinfo", rebound)
        emit(sqlite_world.workspace_id)
        dispatcher(allowed=()).run_until_idle()
        assert receiver.received == []
        dispatcher().run_until_idle(wait_for_retries=True)  # where loopback is allowed
    assert len(receiver.received) == 1
    (delivery,) = deliveries(hook_id)
    refused, delivered = attempts(delivery.id)
    assert refused.error is not None and "a name for 127.0.0.1" in refused.error
    assert delivered.status_code == 200
