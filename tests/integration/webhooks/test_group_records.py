"""Recording finished attempts in groups (app/webhooks/outcomes.py): one transaction for many
deliveries, a stale lease rejecting only its own, failures counted in the order they came."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.models import DeliveryStatus
from app.repo.deliveries import DeliveryClaim
from app.webhooks import outcomes
from app.webhooks.delivery import AttemptResult, Verdict
from app.webhooks.outcomes import Finished
from tests.integration.webhooks.support import (
    attempts,
    audit_actions,
    deliveries,
    dispatcher,
    emit,
    subscribe,
    webhook,
)

UNREACHABLE = "http://127.0.0.1:9/never-sent"  # the tests record outcomes without sending


def _claimed(world: Any, count: int, **options: Any) -> tuple[str, list[DeliveryClaim]]:
    hook_id, _ = subscribe(world, UNREACHABLE)
    for _ in range(count):
        emit(world.workspace_id)
    holder = dispatcher(clock=world.now, **options)
    holder.fan_out()
    claims = holder.claim(count)
    holder.stop()
    assert len(claims) == count
    return hook_id, claims


def _succeeded(world: Any, claim: DeliveryClaim) -> Finished:
    return Finished(claim, AttemptResult(started_at=world.now(), status_code=204,
                                         latency_ms=3.0), Verdict(DeliveryStatus.SUCCEEDED),
                    world.now())


def _failed(world: Any, claim: DeliveryClaim) -> Finished:
    retry = Verdict(DeliveryStatus.PENDING, next_attempt_at=world.now() + timedelta(seconds=5))
    return Finished(claim, AttemptResult(started_at=world.now(), status_code=503,
                                         error="HTTP 503"), retry, world.now())


def test_a_batch_is_recorded_together(world: Any) -> None:
    hook_id, claims = _claimed(world, 5)
    assert outcomes.write([_succeeded(world, c) for c in claims], max_failures=20) == [True] * 5
    rows = deliveries(hook_id)
    assert {row.status for row in rows} == {DeliveryStatus.SUCCEEDED}
    assert all(row.lease_token is None and row.last_status_code == 204 for row in rows)
    assert all([a.number for a in attempts(row.id)] == [1] for row in rows)


def test_one_stale_lease_in_a_batch_rejects_only_its_own(world: Any) -> None:
    hook_id, claims = _claimed(world, 3, lease_s=30)
    world.advance(31)
    taker = dispatcher(clock=world.now)
    (taken,) = taker.claim(1)  # the first holder's lease expired: one delivery is taken over
    taker.stop()
    recorded = outcomes.write([_succeeded(world, c) for c in claims], max_failures=20)
    assert recorded == [c.delivery_id != taken.delivery_id for c in claims]
    by_id = {row.id: row for row in deliveries(hook_id)}
    assert by_id[taken.delivery_id].status == DeliveryStatus.DELIVERING
    assert by_id[taken.delivery_id].lease_token == taken.token
    assert attempts(taken.delivery_id) == []
    others = [row for ident, row in by_id.items() if ident != taken.delivery_id]
    assert [row.status for row in others] == [DeliveryStatus.SUCCEEDED] * 2


def test_failures_of_one_batch_count_in_order_and_disable_once(world: Any) -> None:
    hook_id, claims = _claimed(world, 4)
    recorded = outcomes.write([_failed(world, c) for c in claims], max_failures=3)
    assert recorded == [True] * 4
    hook = webhook(hook_id)
    assert not hook.active and hook.consecutive_failures == 4
    assert hook.disabled_reason == "disabled after 3 consecutive failed attempts"
    assert audit_actions(world.workspace_id, hook_id).count("webhook.disabled") == 1
    rows = deliveries(hook_id)
    assert [row.status for row in rows] == [DeliveryStatus.FAILED] * 4
    assert all(row.next_attempt_at is None for row in rows)


def test_a_success_then_a_failure_leaves_one_failure(world: Any) -> None:
    hook_id, claims = _claimed(world, 2)
    first, second = claims
    assert outcomes.write([_succeeded(world, first), _failed(world, second)],
                          max_failures=20) == [True, True]
    assert webhook(hook_id).consecutive_failures == 1
    by_id = {row.id: row for row in deliveries(hook_id)}
    assert by_id[first.delivery_id].status == DeliveryStatus.SUCCEEDED
    assert by_id[second.delivery_id].status == DeliveryStatus.PENDING
    assert by_id[second.delivery_id].next_attempt_at is not None
