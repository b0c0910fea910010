"""Step runs: leases and claims as data, the executor's read of a claimed step, the run's
step list. Every write of a step's status is in app/repo/transitions.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, inspect
from sqlmodel import Session, col, select

from app.models import Run, StepRun, StepStatus
from app.models.transition import RunState, StepState


@dataclass(frozen=True)
class Lease:
    """A lease taken at creation: the creating worker runs the new step itself (hand-over)."""

    owner: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class Claim:
    """A step this worker holds until `lease_expires_at`; the token proves it at completion."""

    step_id: str
    run_id: str
    workspace_id: str
    step_key: str
    kind: str
    attempt: int
    max_attempts: int
    token: str
    lease_expires_at: datetime


_STEP_COLUMNS = ("id", "run_id", "workspace_id", "step_key", "kind", "seq", "status", "attempt",
                 "max_attempts", "input", "started_at")
_RUN_COLUMNS = ("id", "workspace_id", "workflow_id", "workflow_version_id", "version_number",
                "workflow_title", "status", "input", "outputs", "trigger", "created_at",
                "deadline_at", "parent_step_id", "steps_completed", "current_step", "error",
                "completed_at", "created_by", "requester")


_LOAD_CLAIMED = (
    select(*[getattr(StepRun, name) for name in _STEP_COLUMNS],
           *[getattr(Run, name) for name in _RUN_COLUMNS])
    .join(Run, col(Run.id) == col(StepRun.run_id))
    .where(col(StepRun.id) == bindparam("b_id"))
)


def load_claimed(session: Session, claim: Claim) -> tuple[StepState, RunState] | None:
    """The claimed step and its run in one query, as detached objects (read-only use).

    A Core select: the executor's hot path does not need ORM identity or change tracking.
    """
    row = session.connection().execute(_LOAD_CLAIMED, {"b_id": claim.step_id}).first()
    if row is None:
        return None
    values = tuple(row)
    split = len(_STEP_COLUMNS)
    return StepState(*values[:split]), RunState(*values[split:])


def step_state(step: StepRun) -> StepState:
    """A step row as a transition reads it."""
    return StepState(*(getattr(step, name) for name in _STEP_COLUMNS))


def get_step(session: Session, step_id: str, *, workspace_id: str | None = None) -> StepRun | None:
    step = session.get(StepRun, step_id)
    if step is None or (workspace_id is not None and step.workspace_id != workspace_id):
        return None
    return step


def steps_of_run(session: Session, run_id: str) -> Sequence[StepRun]:
    query = select(StepRun).where(StepRun.run_id == run_id).order_by(col(StepRun.seq))
    return session.exec(query).all()


_STEP_ROWS = (inspect(StepRun).local_table.select()
              .where(col(StepRun.run_id) == bindparam("b_run")).order_by(col(StepRun.seq)))


def step_rows_of_run(session: Session, run_id: str) -> Sequence[Row[Any]]:
    """steps_of_run() as Core rows (same attributes, no ORM objects): for answers that only
    read them."""
    return session.connection().execute(_STEP_ROWS, {"b_run": run_id}).all()


def open_steps_of_run(session: Session, run_id: str) -> Sequence[StepRun]:
    query = select(StepRun).where(
        StepRun.run_id == run_id, col(StepRun.status).in_(StepStatus.OPEN)
    )
    return session.exec(query).all()


