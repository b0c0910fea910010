"""200 five-step runs in flight when the app (SQLite) or a worker (PostgreSQL) is SIGKILLed:
after a restart all 200 complete, each step's result is recorded once, and every
run.completed event reaches a loopback receiver (deduplicated by webhook-id)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from app.db import dispose_engines, read_session
from app.models import Run, StepRun, StepStatus
from tests.conftest import TEST_SECRET
from tests.integration.webhooks.support import subscribe, verify_all
from tests.live import LiveApp, LiveWorker
from tests.receiver import serve
from tests.scale.test_workers import completed, count_flow, wait_until
from tests.support import World

pytestmark = pytest.mark.slow
RUNS = 200
ENV = {"SECRET_KEY": TEST_SECRET, "TOOL_MODULES": "tests.tools", "POLL_INTERVAL_S": "0.2",
       "LEASE_S": "3", "WEBHOOK_RETRY_SCALE": "0.01", "EXECUTOR_CONCURRENCY": "8"}


def prepare(tmp_path: Path, receiver_url: str) -> tuple[World, list[str], str]:
    from app.engine.tools import load_tool_modules

    load_tool_modules(["tests.tools"])
    world = World.create()
    _, secret = subscribe(world, receiver_url, ["run.completed"])
    workflow_id = world.publish(count_flow(5, sleep=0.01))
    run_ids = [world.trigger(workflow_id) for _ in range(RUNS)]
    return world, run_ids, secret


def check_everything(run_ids: list[str], received: list, secret: str) -> None:
    with read_session() as session:
        steps = session.exec(select(StepRun).where(StepRun.status == StepStatus.DONE)).all()
        runs = session.exec(select(Run)).all()
    done = Counter((step.run_id, step.step_key) for step in steps)
    assert len(done) == RUNS * 5 and set(done.values()) == {1}
    assert {run.id for run in runs} == set(run_ids)
    payloads = verify_all(received, secret)
    delivered = {p["run_id"] for p in payloads if p["event"] == "run.completed"}
    assert delivered == set(run_ids)


def wait_for_deliveries(receiver, expected: int) -> bool:  # type: ignore[no-untyped-def]
    def unique() -> int:
        return len({r.headers["webhook-id"] for r in receiver.received})

    return wait_until(lambda: unique() >= expected, 120)


def test_app_sigkilled_with_200_runs_in_flight_completes_them_all(sqlite_db: str,
                                                                  tmp_path: Path) -> None:
    with serve() as receiver:
        _, run_ids, secret = prepare(tmp_path, receiver.url + "/hook")
        app = LiveApp(tmp_path, database_url=sqlite_db, COUNT_FILE=str(tmp_path / "c.log"),
                      **ENV)
        app.start()
        try:
            assert wait_until(lambda: completed() >= 20, 120)
            app.kill()
            assert completed() < RUNS, "the crash came too late to test anything"
            dispose_engines()
            app = LiveApp(tmp_path, port=app.port, database_url=sqlite_db,
                          COUNT_FILE=str(tmp_path / "c.log"), **ENV)
            app.start()
            assert wait_until(lambda: completed() == RUNS, 180), completed()
            assert wait_for_deliveries(receiver, RUNS)
        finally:
            app.stop()
        check_everything(run_ids, receiver.received, secret)


@pytest.mark.postgres
def test_worker_sigkilled_with_200_runs_in_flight_completes_them_all(postgres_db: str,
                                                                     tmp_path: Path) -> None:
    with serve() as receiver:
        _, run_ids, secret = prepare(tmp_path, receiver.url + "/hook")

        def worker(name: str) -> LiveWorker:
            return LiveWorker(tmp_path, database_url=postgres_db, name=name,
                              COUNT_FILE=str(tmp_path / "c.log"), **ENV)

        first = worker("first")
        first.start()
        try:
            assert wait_until(lambda: completed() >= 20, 120)
            first.kill()
            assert completed() < RUNS, "the crash came too late to test anything"
            second = worker("second")
            second.start()
            assert wait_until(lambda: completed() == RUNS, 180), completed()
            assert wait_for_deliveries(receiver, RUNS)
            assert second.stop() == 0
        finally:
            first.kill()
        check_everything(run_ids, receiver.received, secret)
