"""Run-and-wait wakes a waiter for its own run only: app/settled.py, the wake-up payload that
carries settled run ids across processes, and the waiting loop with its reads counted."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from app import settled, wakeup
from app.api import waiting
from app.models import RunStatus


def test_a_watcher_is_called_for_its_own_run_only() -> None:
    calls: list[str] = []
    unwatch_a = settled.watch("run_a", lambda: calls.append("a"))
    unwatch_b = settled.watch("run_b", lambda: calls.append("b"))
    try:
        settled.notify(["run_a", "run_c"])
        assert calls == ["a"]
        settled.notify([settled.ANY_RUN])
        assert sorted(calls) == ["a", "a", "b"]
    finally:
        unwatch_a()
        unwatch_b()
    settled.notify(["run_a", "run_b"])
    assert len(calls) == 3
    assert settled.watched() == 0


def test_a_failing_watcher_does_not_stop_the_others() -> None:
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    unwatch = [settled.watch("run_x", broken), settled.watch("run_x", lambda: calls.append("x"))]
    try:
        settled.notify(["run_x"])
    finally:
        for stop in unwatch:
            stop()
    assert calls == ["x"]


def test_the_payload_names_settled_runs_for_other_processes_only() -> None:
    own = wakeup.notify_payload([wakeup.EVENTS], ["run_2", "run_1"])
    assert wakeup.settled_from_others(own) == []
    assert wakeup.topics_from_others(own) == []
    other = "another-process:" + own.partition(":")[2]
    assert other.endswith("events|run_1,run_2")
    assert wakeup.topics_from_others(other) == [wakeup.EVENTS]
    assert wakeup.settled_from_others(other) == ["run_1", "run_2"]
    assert wakeup.settled_from_others("another-process:steps") == []  # older senders
    assert wakeup.settled_from_others(wakeup.STEPS) == []


def test_too_many_run_ids_become_any_run() -> None:
    many = [f"run_{i:026d}" for i in range(400)]
    payload = wakeup.notify_payload([wakeup.EVENTS], many)
    assert len(payload) < wakeup.PAYLOAD_MAX
    assert payload.endswith("|" + settled.ANY_RUN)


class FakeRun:
    """A run whose status the test sets, and a count of the waiter's reads of it."""

    def __init__(self) -> None:
        self.status = RunStatus.IN_PROGRESS
        self.reads = 0
        self.lock = threading.Lock()

    def read(self, run_id: str) -> str:
        with self.lock:
            self.reads += 1
            return self.status


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    run = FakeRun()
    monkeypatch.setattr(waiting, "_status", run.read)
    monkeypatch.setattr(waiting, "_listening", True)
    return run


def test_other_runs_commits_do_not_make_a_waiter_read(fake_run: FakeRun) -> None:
    async def scenario() -> bool:
        task = asyncio.create_task(waiting.wait_until_settled("run_mine", 10))
        await asyncio.sleep(0.01)
        for i in range(500):  # 500 commits of other runs, and the old every-commit topic
            settled.notify([f"run_other_{i}"])
            wakeup.notify(wakeup.EVENTS)
        await asyncio.sleep(0.01)
        fake_run.status = RunStatus.COMPLETED
        settled.notify(["run_mine"])
        return await asyncio.wait_for(task, 2)

    assert asyncio.run(scenario()) is True
    assert fake_run.reads <= 1  # perhaps one safety poll; the wake-up naming it needs none
    assert settled.watched() == 0


def test_a_waiter_that_no_wake_up_reaches_still_sees_the_settle(fake_run: FakeRun) -> None:
    def settle_elsewhere() -> None:  # a worker process on SQLite: nothing notifies
        fake_run.status = RunStatus.BLOCKED

    async def scenario() -> bool:
        asyncio.get_running_loop().call_later(0.2, settle_elsewhere)
        return await waiting.wait_until_settled("run_mine", 5)

    assert asyncio.run(scenario()) is True
    assert fake_run.reads <= 6  # backing off: 0.05, 0.1, 0.2, ... not every 50 ms


def test_a_wait_that_elapses_answers_false(fake_run: FakeRun) -> None:
    assert asyncio.run(waiting.wait_until_settled("run_mine", 0.2)) is False
    assert settled.watched() == 0


def test_a_run_that_settled_before_the_watch_began_needs_no_read(fake_run: FakeRun) -> None:
    since = time.monotonic()  # the trigger's write begins
    fake_run.status = RunStatus.COMPLETED
    settled.notify(["run_quick"])  # its run finished before the waiter watched
    assert asyncio.run(waiting.wait_until_settled("run_quick", 5, since=since)) is True
    assert fake_run.reads == 0


def test_a_settle_before_the_write_began_does_not_count(fake_run: FakeRun) -> None:
    settled.notify(["run_again"])  # it blocked earlier ...
    since = time.monotonic()  # ... and a decision now resumes it

    async def scenario() -> bool:
        task = asyncio.create_task(waiting.wait_until_settled("run_again", 5, since=since))
        await asyncio.sleep(0.01)
        assert not task.done()
        settled.notify(["run_again"])  # it settles once more
        return await asyncio.wait_for(task, 2)

    assert asyncio.run(scenario()) is True
    assert fake_run.reads <= 1


def test_settled_ids_are_remembered_for_a_while_and_up_to_a_number(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settled, "RECENT_MAX", 3)
    start = time.monotonic()
    settled.notify([f"run_many_{i}" for i in range(5)])
    kept = [i for i in range(5) if settled.settled_since(f"run_many_{i}", start)]
    assert len(kept) == 3
    assert not settled.settled_since("run_many_never", start)
    monkeypatch.setattr(settled, "RECENT_S", 0.0)
    time.sleep(0.01)
    settled.notify(["run_latest"])  # notifying forgets what is older than RECENT_S
    assert not any(settled.settled_since(f"run_many_{i}", start) for i in range(5))
    assert settled.settled_since("run_latest", start)

