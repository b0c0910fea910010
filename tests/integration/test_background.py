"""The background jobs of a process: a commit wakes the executor at once (no poll wait)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.models import RunStatus
from app.scheduler import Background
from app.settings import get_settings, reset_settings


@pytest.fixture
def background(world: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("POLL_INTERVAL_S", "30")  # only a wake-up can explain a fast pickup
    reset_settings()
    jobs = Background(get_settings())
    jobs.start()
    time.sleep(0.3)  # the first interval run happens at start; let it pass
    yield jobs
    jobs.stop()


def test_trigger_wakes_the_executor_at_once(world: Any, background: Background) -> None:
    workflow_id = world.publish({"start": "a", "steps": {
        "a": {"kind": "tool", "tool": "set", "args": {}, "next": "b"},
        "b": {"kind": "tool", "tool": "set", "args": {}, "next": "c"},
        "c": {"kind": "tool", "tool": "set", "args": {}}}})
    started = time.monotonic()
    run_id = world.trigger(workflow_id)
    while world.run(run_id).status != RunStatus.COMPLETED and time.monotonic() - started < 10:
        time.sleep(0.01)
    assert world.run(run_id).status == RunStatus.COMPLETED
    assert time.monotonic() - started < 5


def test_stop_is_clean_and_idempotent(world: Any, background: Background) -> None:
    background.stop()
    assert not background.scheduler.running
