"""Deliveries on the wire: signed per Standard Webhooks, retried on a ladder, judged by status."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from app.clock import utcnow
from app.models import DeliveryStatus, RunStatus
from app.repo import deliveries as deliveries_repo
from app.webhooks.retry import RETRY_LADDER_S
from tests.integration.test_engine_flows import JANE, ONBOARDING, decide
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

SCALE = 0.1


def test_every_delivery_of_a_real_run_verifies_with_standardwebhooks(world: Any) -> None:
    with serve() as receiver:
        _, secret = subscribe(world, receiver.url + "/hooks")
        run_id = world.trigger(world.publish(ONBOARDING), JANE)
        world.drain()
        decide(world, run_id, "approved")
        world.drain()
        assert world.run(run_id).status == RunStatus.COMPLETED
        dispatcher().run_until_idle()
    payloads = verify_all(receiver.received, secret)
    # Sent concurrently, so in no particular order (the payload's timestamp orders them).
    assert {p["event"] for p in payloads} == {"run.started", "run.step_completed",
                                              "run.awaiting_approval", "run.completed",
                                              "approval.created", "approval.decided"}
    for received, payload in zip(receiver.received, payloads, strict=True):
        assert received.method == "POST" and received.path == "/hooks"
        assert received.headers["content-type"] == "application/json"
        assert received.headers["webhook-id"] == payload["id"]
        assert payload["run_id"] == run_id and payload["workspace_id"] == world.workspace_id
        assert set(payload) == {"event", "id", "run_id", "workflow_id", "workspace_id",
                                "timestamp", "data"}
    assert len({p["id"] for p in payloads}) == len(payloads)


def test_a_retry_keeps_the_webhook_id_and_signs_a_new_timestamp(sqlite_world: Any) -> None:
    with serve(Reply(503), Reply(200)) as receiver:
        hook_id, secret = subscribe(sqlite_world, receiver.url)
        event_id = emit(sqlite_world.workspace_id)
        # Far enough apart that the per-attempt timestamp (whole seconds) must differ.
        dispatcher(retry_scale=1.1).run_until_idle(wait_for_retries=True)
    first, second = receiver.received
    verify(first, secret)
    verify(second, secret)
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event_id
    assert first.headers["webhook-timestamp"] != second.headers["webhook-timestamp"]
    assert first.body == second.body
    assert deliveries(hook_id)[0].status == DeliveryStatus.SUCCEEDED


def test_500_500_200_is_three_attempts_at_the_scaled_ladder_offsets(world: Any) -> None:
    with serve(Reply(500), Reply(500), Reply(200)) as receiver:
        hook_id, secret = subscribe(world, receiver.url)
        emit(world.workspace_id)
        dispatcher(retry_scale=SCALE).run_until_idle(wait_for_retries=True)
    assert len(receiver.received) == 3
    verify_all(receiver.received, secret)
    gaps = [b.at - a.at for a, b in zip(receiver.received, receiver.received[1:], strict=False)]
    for gap, step in zip(gaps, RETRY_LADDER_S, strict=False):
        assert step * SCALE <= gap < step * SCALE + 0.4, gaps
    (delivery,) = deliveries(hook_id)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    log = attempts(delivery.id)
    assert [a.number for a in log] == [1, 2, 3]
    assert [a.status_code for a in log] == [500, 500, 200]
    assert all(a.latency_ms is not None and a.latency_ms >= 0 for a in log)
    assert log[0].error == "the receiver answered 500"
    assert webhook(hook_id).consecutive_failures == 0


def test_the_next_attempt_is_scheduled_one_ladder_step_after_a_failure(world: Any) -> None:
    with serve(Reply(500)) as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        hooks = dispatcher(retry_scale=2.0, clock=world.now)
        hooks.run_until_idle()
        (delivery,) = deliveries(hook_id)
        finished = attempts(delivery.id)[0].started_at
        assert delivery.status == DeliveryStatus.PENDING
        delay = (delivery.next_attempt_at - finished).total_seconds()
        assert RETRY_LADDER_S[0] * 2.0 <= delay < RETRY_LADDER_S[0] * 2.0 + 0.5
        assert hooks.run_until_idle() == 0  # not due yet
        world.advance(2.0)
        assert hooks.run_until_idle() == 1
    assert len(receiver.received) == 2


def test_410_gone_disables_the_subscription_and_gives_up(world: Any) -> None:
    with serve(Reply(410)) as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        emit(world.workspace_id)
        dispatcher(claim_batch=1).run_until_idle(wait_for_retries=True)
        emit(world.workspace_id)  # after the disable: not even fanned out to it
        dispatcher().run_until_idle(wait_for_retries=True)
    assert len(receiver.received) == 1
    hook = webhook(hook_id)
    assert hook.active is False
    assert hook.disabled_reason == "the receiver answered 410 Gone"
    first, second = sorted(deliveries(hook_id), key=lambda d: -d.attempts)
    assert first.status == second.status == DeliveryStatus.FAILED
    assert first.last_status_code == 410 and first.next_attempt_at is None
    assert second.attempts == 0 and "disabled" in (second.last_error or "")
    assert "webhook.disabled" in audit_actions(world.workspace_id, hook_id)


def test_a_redirect_is_not_followed_and_counts_as_a_failure(sqlite_world: Any) -> None:
    with serve() as elsewhere:
        moved = Reply(302, headers={"location": elsewhere.url + "/moved"})
        with serve(moved) as receiver:
            hook_id, _ = subscribe(sqlite_world, receiver.url)
            emit(sqlite_world.workspace_id)
            dispatcher().run_until_idle()
    assert len(receiver.received) == 1
    assert elsewhere.received == []
    (delivery,) = deliveries(hook_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 302
    assert "not followed" in (delivery.last_error or "")
    assert webhook(hook_id).consecutive_failures == 1


def test_a_slow_receiver_times_out(sqlite_world: Any) -> None:
    with serve(Reply(200, delay_s=2.0)) as receiver:
        hook_id, _ = subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        started = time.monotonic()
        dispatcher(timeout_s=0.3).run_until_idle()
        took = time.monotonic() - started
    assert took < 1.5
    (delivery,) = deliveries(hook_id)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.last_error == "timed out after 0.3 s"
    assert attempts(delivery.id)[0].status_code is None


def test_retry_after_is_honoured_over_a_shorter_ladder_step(sqlite_world: Any) -> None:
    with serve(Reply(429, headers={"retry-after": "1"}), Reply(200)) as receiver:
        hook_id, _ = subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        dispatcher(retry_scale=0.01).run_until_idle(wait_for_retries=True)
    assert len(receiver.received) == 2
    gap = receiver.received[1].at - receiver.received[0].at
    assert 1.0 <= gap < 1.6
    assert deliveries(hook_id)[0].status == DeliveryStatus.SUCCEEDED


def test_a_run_of_failures_disables_the_subscription(world: Any) -> None:
    with serve(Reply(500)) as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        for _ in range(3):
            emit(world.workspace_id)
        dispatcher(max_failures=4, retry_scale=0.01, claim_batch=1).run_until_idle(
            wait_for_retries=True)
    assert len(receiver.received) == 4
    hook = webhook(hook_id)
    assert hook.active is False
    assert hook.disabled_reason == "disabled after 4 consecutive failed attempts"
    assert hook.version == 2
    assert all(d.status == DeliveryStatus.FAILED for d in deliveries(hook_id))


def test_a_success_resets_the_failure_count(sqlite_world: Any) -> None:
    with serve(Reply(500), Reply(500), Reply(200)) as receiver:
        hook_id, _ = subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        dispatcher(max_failures=3, retry_scale=0.01).run_until_idle(wait_for_retries=True)
    assert len(receiver.received) == 3
    hook = webhook(hook_id)
    assert hook.active is True and hook.consecutive_failures == 0


def test_the_ladder_ends_in_a_failed_delivery(world: Any) -> None:
    with serve(Reply(500)) as receiver:
        hook_id, _ = subscribe(world, receiver.url)
        emit(world.workspace_id)
        hooks = dispatcher(retry_scale=1.0, clock=world.now, max_failures=100)
        assert hooks.run_until_idle() == 1
        for step in RETRY_LADDER_S:
            world.advance(step + 1)
            assert hooks.run_until_idle() == 1
        world.advance(24 * 3600)
        assert hooks.run_until_idle() == 0
    (delivery,) = deliveries(hook_id)
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert delivery.attempts == len(RETRY_LADDER_S) + 1 == len(receiver.received)


def test_deliveries_are_sent_concurrently(sqlite_world: Any) -> None:
    with serve(Reply(200, delay_s=0.5)) as receiver:
        subscribe(sqlite_world, receiver.url)
        for _ in range(8):
            emit(sqlite_world.workspace_id)
        started = time.monotonic()
        dispatcher(concurrency=8).run_until_idle()
        took = time.monotonic() - started
    assert len(receiver.received) == 8
    assert took < 2.0  # one after another would take 4 s


def test_tick_delivers_in_the_background(sqlite_world: Any) -> None:
    with serve() as receiver:
        hook_id, _ = subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        hooks = dispatcher()
        assert hooks.tick() == 1
        deadline = time.monotonic() + 5
        while deliveries(hook_id)[0].status != DeliveryStatus.SUCCEEDED:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        hooks.stop()
    assert len(receiver.received) == 1


def test_a_tick_sends_each_claimed_delivery_its_own_subscription_and_event(
        sqlite_world: Any) -> None:
    with serve() as first, serve() as second:
        first_id, first_secret = subscribe(sqlite_world, first.url)
        second_id, second_secret = subscribe(sqlite_world, second.url)
        event_ids = [emit(sqlite_world.workspace_id, n=n) for n in range(3)]
        hooks = dispatcher()
        assert hooks.tick() == 6
        deadline = time.monotonic() + 5
        while len(first.received) + len(second.received) < 6:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        hooks.stop(wait=True, timeout_s=5)
    for receiver, secret in ((first, first_secret), (second, second_secret)):
        payloads = verify_all(receiver.received, secret)
        assert sorted(p["id"] for p in payloads) == sorted(event_ids)
        assert {p["id"]: p["data"]["n"] for p in payloads} == dict(zip(event_ids, range(3),
                                                                         strict=True))
    assert all(d.status == DeliveryStatus.SUCCEEDED
               for d in deliveries(first_id) + deliveries(second_id))


@pytest.mark.parametrize("payload_format", ["standard", "compat"])
def test_the_compat_format_adds_the_public_api_keys(sqlite_world: Any,
                                                    payload_format: str) -> None:
    with serve() as receiver:
        _, secret = subscribe(sqlite_world, receiver.url, payload_format=payload_format)
        event_id = emit(sqlite_world.workspace_id)
        dispatcher().run_until_idle()
    payload = verify(receiver.received[0], secret)
    assert payload["id"] == event_id and payload["run_id"] == "run_test"
    if payload_format == "compat":
        assert payload["runId"] == "run_test" and payload["workflowId"] == "wf_test"
        assert payload["orgId"] == sqlite_world.workspace_id
    else:
        assert "runId" not in payload


def test_no_transaction_is_held_while_a_receiver_is_slow(sqlite_world: Any) -> None:
    """On SQLite a held write transaction would block this emit for the whole call."""
    with serve(Reply(200, delay_s=1.5)) as receiver:
        hook_id, _ = subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        hooks = dispatcher()
        hooks.tick()
        while not receiver.received:
            time.sleep(0.01)
        started = time.monotonic()
        emit(sqlite_world.workspace_id)
        assert time.monotonic() - started < 0.5
        hooks.stop(wait=True, timeout_s=5)
    assert deliveries(hook_id)[0].status == DeliveryStatus.SUCCEEDED


def test_a_tick_racing_the_stop_submits_nothing_and_raises_nothing(sqlite_world: Any) -> None:
    with serve(Reply(200)) as receiver:
        hook_id, _secret = subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        stopping = dispatcher()
        real_claim = stopping.claim

        def claim_then_stop(limit: int) -> Any:
            claims = real_claim(limit)
            stopping.stop()  # the app shuts down while this tick holds its claims
            return claims

        stopping.claim = claim_then_stop  # type: ignore[method-assign]
        assert stopping.tick() == 0
        assert stopping.in_flight == 0
        assert receiver.received == []
        # The unsent claim was given back: due at once, its attempt not counted.
        [given_back] = deliveries(hook_id)
        assert given_back.status == DeliveryStatus.PENDING
        assert given_back.lease_token is None and given_back.attempts == 0
        restarted = dispatcher()
        restarted.run_until_idle()
        restarted.stop()
    assert len(receiver.received) == 1
    [delivered] = deliveries(hook_id)
    assert delivered.status == DeliveryStatus.SUCCEEDED and delivered.attempts == 1


def test_a_claim_that_cannot_be_given_back_at_stop_is_delivered_after_its_lease(
        sqlite_world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(Reply(200)) as receiver:
        subscribe(sqlite_world, receiver.url)
        emit(sqlite_world.workspace_id)
        stopping = dispatcher()
        real_claim = stopping.claim

        def claim_then_stop(limit: int) -> Any:
            claims = real_claim(limit)
            stopping.stop()
            return claims

        def refuse(*_args: Any) -> int:
            raise RuntimeError("database gone")

        stopping.claim = claim_then_stop  # type: ignore[method-assign]
        monkeypatch.setattr(deliveries_repo, "release_claims", refuse)
        assert stopping.tick() == 0  # logs, does not raise
        monkeypatch.undo()
        meanwhile = dispatcher()
        assert meanwhile.run_until_idle() == 0  # still leased
        meanwhile.stop()
        after_lease = dispatcher(clock=lambda: utcnow() + timedelta(seconds=stopping.lease_s + 1))
        after_lease.run_until_idle()
        after_lease.stop()
    assert len(receiver.received) == 1
