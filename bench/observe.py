"""What happened, read from the database the app writes: step and run timestamps, counts.

Times come back as Unix seconds (wall clock, the same clock the load generator schedules on).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.clock import as_utc
from app.models import Approval, Event, Run, StepRun, WebhookDelivery

POLL_S = 0.2
CHUNK = 500

run_t = Run.__table__  # type: ignore[attr-defined]
step_t = StepRun.__table__  # type: ignore[attr-defined]
approval_t = Approval.__table__  # type: ignore[attr-defined]
event_t = Event.__table__  # type: ignore[attr-defined]
delivery_t = WebhookDelivery.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StepTime:
    run_id: str
    step_key: str
    seq: int
    started: float
    finished: float


def unix(value: datetime | None) -> float:
    return as_utc(value).timestamp() if value is not None else float("nan")


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(POLL_S)


def count_runs(engine: Engine, *, workflow_id: str, status: str = "COMPLETED") -> int:
    query = sa.select(sa.func.count()).select_from(run_t).where(
        run_t.c.workflow_id == workflow_id, run_t.c.status == status)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def wait_for_runs(engine: Engine, workflow_id: str, count: int, timeout_s: float,
                  status: str = "COMPLETED") -> None:
    wait_until(lambda: count_runs(engine, workflow_id=workflow_id, status=status) >= count,
               timeout_s, f"{count} runs {status}")


def step_times(engine: Engine, workflow_id: str) -> list[StepTime]:
    """Every finished or started step of the workflow's runs."""
    query = (sa.select(step_t.c.run_id, step_t.c.step_key, step_t.c.seq, step_t.c.started_at,
                       step_t.c.finished_at)
             .join(run_t, run_t.c.id == step_t.c.run_id)
             .where(run_t.c.workflow_id == workflow_id, step_t.c.started_at.is_not(None)))
    with engine.connect() as conn:
        return [StepTime(r.run_id, r.step_key, r.seq, unix(r.started_at), unix(r.finished_at))
                for r in conn.execute(query)]


def first_started(steps: Iterable[StepTime], step_key: str | None = None) -> dict[str, float]:
    """Per run, when its first step (or the step named `step_key`) started."""
    first: dict[str, float] = {}
    for step in steps:
        if step_key is not None and step.step_key != step_key:
            continue
        if step.run_id not in first or step.started < first[step.run_id]:
            first[step.run_id] = step.started
    return first


def run_created_completed(engine: Engine, run_ids: list[str]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    with engine.connect() as conn:
        for i in range(0, len(run_ids), CHUNK):
            query = sa.select(run_t.c.id, run_t.c.created_at, run_t.c.completed_at).where(
                run_t.c.id.in_(run_ids[i:i + CHUNK]))
            for row in conn.execute(query):
                out[row.id] = (unix(row.created_at), unix(row.completed_at))
    return out


def pending_approvals(engine: Engine, workflow_id: str) -> list[tuple[str, str]]:
    """(approval id, run id) of every pending approval of the workflow, oldest first."""
    query = (sa.select(approval_t.c.id, approval_t.c.run_id)
             .where(approval_t.c.workflow_id == workflow_id, approval_t.c.status == "pending")
             .order_by(approval_t.c.created_at))
    with engine.connect() as conn:
        return [(row.id, row.run_id) for row in conn.execute(query)]


def event_created(engine: Engine, event_ids: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    with engine.connect() as conn:
        for i in range(0, len(event_ids), CHUNK):
            query = sa.select(event_t.c.id, event_t.c.created_at).where(
                event_t.c.id.in_(event_ids[i:i + CHUNK]))
            out.update({row.id: unix(row.created_at) for row in conn.execute(query)})
    return out


def deliveries_succeeded(engine: Engine) -> int:
    query = sa.select(sa.func.count()).select_from(delivery_t).where(
        delivery_t.c.status == "succeeded")
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
