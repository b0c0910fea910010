"""Webhook events survive a crash: the app is SIGKILLed while its receiver is down, more
events are written while the app is dead, and after a restart every event arrives (at least
once, deduplicable by `webhook-id`), each verified with the `standardwebhooks` package."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.db import dispose_engines, read_session
from app.models import DeliveryStatus, Event, Run, RunStatus, WebhookDelivery
from tests.conftest import TEST_SECRET
from tests.integration.webhooks.receiver import serve
from tests.integration.webhooks.support import subscribe, verify_all, webhook
from tests.live import LiveApp, free_port
from tests.receiver import Receiver, Reply
from tests.support import World

pytestmark = pytest.mark.slow

FLOW = {
    "start": "in",
    "steps": {
        "in": {"kind": "input", "fields": [{"name": "n", "type": "integer", "required": True}],
               "next": "double"},
        "double": {"kind": "tool", "tool": "set", "args": {"double": "{{ input.n * 2 }}"},
                   "done": True},
    },
}
RUNS = 8
RUNS_WHILE_DEAD = 3
ENV = {
    "SECRET_KEY": TEST_SECRET,  # the app decrypts the secrets this process encrypted
    "POLL_INTERVAL_S": "0.2",
    "WEBHOOK_RETRY_SCALE": "0.01",  # ladder 10 ms, 50 ms, 250 ms, 1.2 s, 6 s …
    "WEBHOOK_MAX_FAILURES": "100000",  # the receiver's outage must not disable it
    "WEBHOOK_TIMEOUT_S": "2",
}


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def event_ids(workspace_id: str) -> set[str]:
    with read_session() as session:
        return set(session.exec(select(Event.id).where(Event.workspace_id == workspace_id)))


def received_ids(receiver: Receiver) -> set[str]:
    return {r.headers["webhook-id"] for r in list(receiver.received)}


def completed_runs() -> int:
    with read_session() as session:
        return session.exec(select(func.count()).select_from(Run).where(
            Run.status == RunStatus.COMPLETED)).one()


def delivery_states(webhook_id: str) -> Counter[str]:
    with read_session() as session:
        rows = session.exec(select(WebhookDelivery).where(
            WebhookDelivery.webhook_id == webhook_id)).all()
    return Counter("unattempted" if row.attempts == 0 else row.status for row in rows)


def test_undelivered_events_survive_sigkill_and_arrive_after_restart(
        sqlite_db: str, tmp_path: Path) -> None:
    world = World.create()
    workflow_id = world.publish(FLOW)
    port = free_port()  # nothing listens here yet: the receiver is down
    hook_id, secret = subscribe(world, f"http://127.0.0.1:{port}/hooks")
    app = LiveApp(tmp_path, database_url=sqlite_db, **ENV)
    app.start()
    receiver = Receiver(replies=[Reply(200)])
    try:
        for n in range(RUNS):
            world.trigger(workflow_id, {"n": n})
        assert wait_until(lambda: completed_runs() == RUNS, 30), "the runs did not finish"
        # Every event has become a delivery that was tried and failed: the receiver is down.
        expected = len(event_ids(world.workspace_id))
        assert wait_until(lambda: delivery_states(hook_id)["pending"] == expected, 30), \
            delivery_states(hook_id)
        app.kill()
        assert delivery_states(hook_id)[DeliveryStatus.SUCCEEDED] == 0
        dispose_engines()
        # Written while no dispatcher runs anywhere: not even fanned out yet.
        for n in range(RUNS_WHILE_DEAD):
            world.trigger(workflow_id, {"n": 100 + n})
        wanted = event_ids(world.workspace_id)
        assert len(wanted) == expected + RUNS_WHILE_DEAD
        with serve(port=port, receiver=receiver):
            app = LiveApp(tmp_path, port=app.port, database_url=sqlite_db, **ENV)
            app.start()
            assert wait_until(lambda: received_ids(receiver) >= wanted, 60), (
                f"missing {len(wanted - received_ids(receiver))} of {len(wanted)}; "
                f"deliveries {delivery_states(hook_id)}")
            # The runs queued while the app was dead finish now, and their events follow.
            assert wait_until(lambda: completed_runs() == RUNS + RUNS_WHILE_DEAD, 30)
            assert wait_until(
                lambda: received_ids(receiver) >= event_ids(world.workspace_id), 30)
            assert wait_until(lambda: set(delivery_states(hook_id)) == {"succeeded"}, 20), \
                delivery_states(hook_id)
    finally:
        app.stop()
    payloads = verify_all(receiver.received, secret)
    everything = event_ids(world.workspace_id)
    assert {p["id"] for p in payloads} == everything
    # At least once in general; here exactly once, since no attempt reached the receiver
    # before the crash (it was down), so nothing was in flight to be sent twice.
    assert len(payloads) == len(everything)
    assert all(r.path == "/hooks" for r in receiver.received)
    assert webhook(hook_id).active
