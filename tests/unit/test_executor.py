"""The executor with fakes: an in-memory database of its own, a clock the test moves, a fixed
jitter draw and an HTTP client answered in-process (httpx.MockTransport)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from app import db
from app.engine import progress
from app.engine.definition import parse_definition
from app.engine.executor import Executor
from app.engine.transition import plan_start
from app.models import Run, RunStatus, StepRun, StepStatus, Trigger, Workflow, WorkflowVersion
from app.models.workspace import Workspace
from app.repo import runs as runs_repo
from app.repo import transitions

FLOW: dict[str, Any] = {
    "start": "call",
    "steps": {
        "call": {"kind": "http", "method": "POST", "url": "https://hr.example/accounts",
                 "body": {"n": 1}, "retry": {"max_attempts": 2, "backoff_s": 4},
                 "next": "note"},
        "note": {"kind": "tool", "tool": "set", "args": {"ok": True},
                 "done": True},
    },
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Target:
    """The HTTP target: answers from a queue of statuses and records what it received."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0), json={"id": len(self.requests)})


class World:
    def __init__(self, target: Target, file: Path | None = None) -> None:
        """An in-memory database, or with `file` a SQLite file behind the product's own
        writer and reader engines (for step threads writing side by side)."""
        if file is None:
            self.engine = create_engine("sqlite://", poolclass=StaticPool,
                                        connect_args={"check_same_thread": False})
            self.reader_engine = self.engine
        else:
            self.engine, self.reader_engine = db._engines(f"sqlite:///{file}")
        SQLModel.metadata.create_all(self.engine)
        self.clock = Clock()
        self.target = target
        self.http = httpx.Client(transport=httpx.MockTransport(target))
        self.executor = Executor(http=self.http, clock=self.clock, rand=lambda: 0.0,
                                 writer=self.session, reader=self.read_session, owner="w1")
        self.definition = parse_definition(FLOW, known_tools={"set"})
        with self.session() as session:
            session.add(Workspace(id="ws_1", name="Test"))
            session.flush()
            session.add(Workflow(id="wf_1", workspace_id="ws_1", title="Accounts",
                                 status="published", definition=FLOW, published_number=1))
            session.flush()
            session.add(WorkflowVersion(id="wfv_1", workspace_id="ws_1", workflow_id="wf_1",
                                        number=1, title="Accounts", definition=FLOW))
            session.commit()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        with Session(self.reader_engine, expire_on_commit=False) as session:
            yield session

    def start(self) -> str:
        transition = plan_start(workspace_id="ws_1", workflow_id="wf_1", version_id="wfv_1",
                                version_number=1, title="Accounts", definition=self.definition,
                                input={}, trigger=Trigger.API, created_by="test",
                                now=self.clock())
        with self.session() as session:
            transitions.apply(session, transition, now=self.clock())
            session.commit()
        assert transition.new_run is not None
        return transition.new_run.id

    def run(self, run_id: str) -> Run:
        with self.session() as session:
            run = session.get(Run, run_id)
            assert run is not None
            return run

    def steps(self, run_id: str) -> list[StepRun]:
        with self.session() as session:
            query = select(StepRun).where(StepRun.run_id == run_id).order_by(StepRun.seq)
            return list(session.exec(query))


@pytest.fixture
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    statuses = getattr(request, "param", (201,))
    file = tmp_path / "app.db" if getattr(request, "param", None) == "threads" else None
    made = World(Target(*statuses) if file is None else Target(*[201] * 100), file)
    yield made
    made.http.close()
    made.engine.dispose()
    made.reader_engine.dispose()


def test_a_run_goes_through_its_steps_to_completed(world: World) -> None:
    run_id = world.start()
    assert world.executor.run_until_idle() == 2
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["call"]["status"] == 201 and run.outputs["note"] == {"ok": True}
    assert run.completed_at is not None
    assert run.completed_at.replace(tzinfo=UTC) == world.clock.now
    (request,) = world.target.requests
    # The target sees a key that stays the same across retries of the step.
    assert request.headers["Idempotency-Key"]
    steps = world.steps(run_id)
    assert [(s.step_key, s.status) for s in steps] == [("call", StepStatus.DONE),
                                                      ("note", StepStatus.DONE)]
    assert all(s.lease_token is None for s in steps)


@pytest.mark.parametrize("world", [(503, 201)], indirect=True)
def test_a_failed_call_waits_out_its_backoff_on_the_clock(world: World) -> None:
    run_id = world.start()
    assert world.executor.run_until_idle() == 1
    (step,) = world.steps(run_id)
    assert step.status == StepStatus.PENDING and step.error is not None
    assert step.next_attempt_at is not None
    # Attempt 1 on a 4 s base with the draw at 0: half the ceiling, 2 s.
    assert step.next_attempt_at.replace(tzinfo=UTC) == world.clock.now + timedelta(seconds=2)
    assert world.executor.run_until_idle() == 0  # not due yet
    world.clock.now += timedelta(seconds=2)
    assert world.executor.run_until_idle() == 2
    assert world.run(run_id).status == RunStatus.COMPLETED
    first, second = world.target.requests
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


@pytest.mark.parametrize("world", [(500, 500)], indirect=True)
def test_failures_past_the_budget_flag_the_run(world: World) -> None:
    run_id = world.start()
    world.executor.run_until_idle()
    world.clock.now += timedelta(minutes=1)
    world.executor.run_until_idle()
    run = world.run(run_id)
    assert run.status == RunStatus.FLAGGED and "500" in (run.error or "")
    (step,) = world.steps(run_id)
    assert (step.status, step.attempt) == (StepStatus.FAILED, 2)


def test_a_late_result_under_a_lost_lease_is_discarded(world: World) -> None:
    run_id = world.start()
    (claim,) = world.executor.claim(10)
    with world.session() as session:  # the lease expired and another worker took the step
        session.exec(update(StepRun).values(lease_token="someone-else"))  # type: ignore[call-overload]
        session.commit()
    world.executor.run_claim(claim)
    (step,) = world.steps(run_id)
    assert (step.status, step.lease_token) == (StepStatus.RUNNING, "someone-else")
    run = world.run(run_id)
    assert (run.status, run.steps_completed) == (RunStatus.IN_PROGRESS, 0)


def test_a_run_cancelled_while_its_step_ran_stays_cancelled(world: World) -> None:
    run_id = world.start()
    (claim,) = world.executor.claim(10)
    with world.session() as session:
        locked = runs_repo.lock_run(session, run_id)
        assert locked is not None
        progress.cancel(session, runs_repo.run_state(locked), reason="stop", now=world.clock())
        session.commit()
    world.executor.run_claim(claim)  # the call was made; its result is dropped
    run = world.run(run_id)
    assert (run.status, run.error) == (RunStatus.CANCELLED, "stop")
    assert [s.status for s in world.steps(run_id)] == [StepStatus.CANCELLED]


@pytest.mark.parametrize("world", [(201,) * 3], indirect=True)
def test_one_stale_lease_in_a_batch_rejects_only_its_own_step(world: World) -> None:
    run_ids = [world.start() for _ in range(3)]
    claims = world.executor.claim(10)
    works = [world.executor._load(claim) for claim in claims]
    batch = [(work, world.executor._execute(work)) for work in works if work is not None]
    lost = claims[1]
    with world.session() as session:  # the second step's lease went to another worker
        session.exec(update(StepRun).where(StepRun.id == lost.step_id)  # type: ignore[call-overload]
                     .values(lease_token="someone-else"))
        session.commit()
    world.executor._inline = True  # write in this thread, successors as pending steps
    successors = world.executor._write(batch)
    assert [s is None for s in successors] == [False, True, False]
    for run_id in run_ids:
        steps = world.steps(run_id)
        if steps[0].id == lost.step_id:
            assert [s.status for s in steps] == [StepStatus.RUNNING]
            assert world.run(run_id).steps_completed == 0
        else:
            assert [s.status for s in steps] == [StepStatus.DONE, StepStatus.RUNNING]
            assert world.run(run_id).steps_completed == 1


@pytest.mark.parametrize("world", ["threads"], indirect=True)
def test_step_threads_share_commits_and_every_run_completes(world: World) -> None:
    run_ids = [world.start() for _ in range(40)]
    executor = world.executor
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        executor.tick()
        with world.session() as session:
            open_runs = session.exec(select(Run.id).where(Run.status != RunStatus.COMPLETED))
            if not list(open_runs):
                break
        time.sleep(0.01)
    executor.stop()
    assert all(world.run(run_id).status == RunStatus.COMPLETED for run_id in run_ids)
    assert executor._commits.batches < 80  # 80 outcomes, fewer transactions
