"""The app as a real process, killed with SIGKILL mid-flight and restarted: nothing is lost."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import dispose_engines, read_session
from app.models import Run, RunStatus, StepRun, StepStatus
from tests.live import LiveApp
from tests.support import World

pytestmark = pytest.mark.slow

FIVE_STEPS = {
    "start": "in",
    "steps": {
        "in": {"kind": "input", "fields": [{"name": "n", "type": "integer", "required": True}],
               "next": "a"},
        "a": {"kind": "tool", "tool": "sleep", "args": {"seconds": 0.2}, "next": "b"},
        "b": {"kind": "tool", "tool": "set", "args": {"double": "{{ input.n * 2 }}"},
              "next": "route"},
        "route": {"kind": "branch", "branches": [{"if": "input.n % 2 == 0", "then": "even"}],
                  "else": "odd"},
        "even": {"kind": "tool", "tool": "sleep", "args": {"seconds": 0.2}, "done": True},
        "odd": {"kind": "tool", "tool": "set", "args": {"odd": True}, "done": True},
    },
}
RUNS = 20


def _statuses() -> Counter[str]:
    with read_session() as session:
        return Counter(run.status for run in session.exec(select(Run)).all())


def _wait_until(predicate, timeout_s: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_sigkill_mid_flight_then_restart_completes_every_run(sqlite_db: str,
                                                             tmp_path: Path) -> None:
    world = World.create()
    workflow_id = world.publish(FIVE_STEPS)
    env = {"LEASE_S": "3", "POLL_INTERVAL_S": "0.2", "EXECUTOR_CONCURRENCY": "4"}
    app = LiveApp(tmp_path, database_url=sqlite_db, **env)
    app.start()
    try:
        run_ids = [world.trigger(workflow_id, {"n": i}) for i in range(RUNS)]
        assert _wait_until(lambda: _statuses()[RunStatus.COMPLETED] >= 2, 30)
        app.kill()
        before = _statuses()
        assert before[RunStatus.COMPLETED] < RUNS, "the crash came too late to test anything"
        dispose_engines()
        app = LiveApp(tmp_path, port=app.port, database_url=sqlite_db, **env)
        app.start()
        assert _wait_until(lambda: _statuses()[RunStatus.COMPLETED] == RUNS, 60), _statuses()
    finally:
        app.stop()
    with read_session() as session:
        for run_id in run_ids:
            run = session.get(Run, run_id)
            assert run is not None
            n = run.input["n"]
            expected = ["in", "a", "b", "route", "even" if n % 2 == 0 else "odd"]
            assert list(run.outputs) == expected
            assert run.outputs["b"] == {"double": n * 2}
            steps = session.exec(select(StepRun).where(StepRun.run_id == run_id)).all()
            done = Counter(s.step_key for s in steps if s.status == StepStatus.DONE)
            assert done == Counter(expected), f"{run_id}: {done}"
