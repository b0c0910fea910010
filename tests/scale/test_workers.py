"""Several worker processes share the work: every step runs, none twice, dead or paused
workers lose nothing, and a worker that lost its lease cannot commit."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import read_session
from app.models import Run, RunStatus, StepRun, StepStatus
from tests.live import LiveWorker
from tests.support import World

pytestmark = pytest.mark.slow


def count_flow(steps: int, sleep: float = 0.0) -> dict:
    keys = [f"s{i}" for i in range(steps)]
    return {"start": keys[0], "steps": {
        key: {"kind": "tool", "tool": "count", "args": {"sleep": sleep},
              **({"next": keys[i + 1]} if i + 1 < steps else {"done": True})}
        for i, key in enumerate(keys)}}


def executions(path: Path) -> Counter[tuple[str, str]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return Counter((line.split(":")[0], line.split(":")[1]) for line in lines)


def pids(path: Path) -> set[str]:
    return {line.split(":")[3] for line in path.read_text().splitlines()}


def completed() -> int:
    with read_session() as session:
        return sum(1 for r in session.exec(select(Run)).all() if r.status == RunStatus.COMPLETED)


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


def start_workers(n: int, tmp_path: Path, url: str, **env: str) -> list[LiveWorker]:
    workers = [LiveWorker(tmp_path, database_url=url, name=f"worker{i}",
                          TOOL_MODULES="tests.tools", COUNT_FILE=str(tmp_path / "count.log"),
                          POLL_INTERVAL_S="0.2", **env) for i in range(n)]
    for worker in workers:
        worker.start()
    return workers


def share_the_work(url: str, tmp_path: Path, n_workers: int, runs: int) -> None:
    from app.engine.tools import load_tool_modules

    load_tool_modules(["tests.tools"])
    world = World.create()
    workflow_id = world.publish(count_flow(5))
    run_ids = [world.trigger(workflow_id) for _ in range(runs)]
    workers = start_workers(n_workers, tmp_path, url, EXECUTOR_CONCURRENCY="8")
    try:
        assert wait_until(lambda: completed() == runs, 180), f"{completed()}/{runs} completed"
    finally:
        codes = [worker.stop() for worker in workers]
    assert codes == [0] * n_workers, [w.log_text()[-2000:] for w in workers]
    seen = executions(tmp_path / "count.log")
    assert len(seen) == runs * 5
    assert set(seen.values()) == {1}, [k for k, v in seen.items() if v > 1][:5]
    assert {run_id for run_id, _ in seen} == set(run_ids)
    assert len(pids(tmp_path / "count.log")) == n_workers


@pytest.mark.postgres
def test_four_workers_on_postgres_run_1000_steps_each_exactly_once(postgres_db: str,
                                                                  tmp_path: Path) -> None:
    share_the_work(postgres_db, tmp_path, n_workers=4, runs=200)


def test_two_processes_on_sqlite_run_1000_steps_each_exactly_once(sqlite_db: str,
                                                                 tmp_path: Path) -> None:
    share_the_work(sqlite_db, tmp_path, n_workers=2, runs=200)


@pytest.mark.postgres
def test_paused_worker_past_its_lease_cannot_commit_its_late_result(postgres_db: str,
                                                                    tmp_path: Path) -> None:
    from app.engine.tools import load_tool_modules

    load_tool_modules(["tests.tools"])
    world = World.create()
    run_id = world.trigger(world.publish(count_flow(1, sleep=2.0)))
    count_file = tmp_path / "count.log"
    (first,) = start_workers(1, tmp_path, postgres_db, LEASE_S="3")
    try:
        assert wait_until(lambda: count_file.exists() and count_file.read_text(), 30)
        first.signal(signal.SIGSTOP)  # holds the lease, mid-step
        (second,) = [LiveWorker(tmp_path, database_url=postgres_db, name="second",
                                TOOL_MODULES="tests.tools", COUNT_FILE=str(count_file),
                                POLL_INTERVAL_S="0.2", LEASE_S="3")]
        second.start()
        assert wait_until(lambda: completed() == 1, 60), second.log_text()[-2000:]
        second.stop()
        first.signal(signal.SIGCONT)
        assert wait_until(lambda: "lease lost" in first.log_text(), 30), first.log_text()
    finally:
        first.signal(signal.SIGCONT)
        first.stop()
    with read_session() as session:
        steps = session.exec(select(StepRun).where(StepRun.run_id == run_id)).all()
    assert len(steps) == 1
    assert steps[0].status == StepStatus.DONE and steps[0].attempt == 2
    assert executions(count_file)[(run_id, "s0")] == 2  # ran twice, recorded once


@pytest.mark.postgres
def test_sigterm_drains_in_flight_steps_then_exits_zero(postgres_db: str,
                                                        tmp_path: Path) -> None:
    from app.engine.tools import load_tool_modules

    load_tool_modules(["tests.tools"])
    world = World.create()
    run_id = world.trigger(world.publish(count_flow(1, sleep=1.5)))
    count_file = tmp_path / "count.log"
    (worker,) = start_workers(1, tmp_path, postgres_db)
    assert wait_until(lambda: count_file.exists() and count_file.read_text(), 30)
    assert worker.stop() == 0
    assert world.run(run_id).status == RunStatus.COMPLETED
