"""Step runs: atomic claims with leases, lease-guarded completion, and the run's step list.

Claims are one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`. On
PostgreSQL the row locks let many workers claim side by side; on SQLite, where SQLAlchemy
renders FOR UPDATE as nothing, the write session's BEGIN IMMEDIATE serialises claims instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, case, insert, union_all, update
from sqlmodel import Session, col, select

from app import wakeup
from app.models import Run, StepRun, StepStatus, new_id


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


# A claim is one prebuilt statement with bound parameters: building it per call cost ten
# times what SQLite spends executing it. Each kind of ready step is its own index range
# (status, due time), read in due order and cut at the limit, so a claim reads about `limit`
# rows of each kind however long the backlog is (one ORDER BY over an OR of them sorted the
# whole backlog on every claim). PostgreSQL allows FOR UPDATE in a CTE, not beside a UNION.
_NOW = bindparam("b_now")
_LIMIT = bindparam("b_limit")


def _ready_kind(status: str, due: Any) -> Any:
    branch = (select(col(StepRun.id).label("id"), due.label("due"))
              .where(col(StepRun.status) == status, due <= _NOW if status != StepStatus.RUNNING
                     else due < _NOW)
              .order_by(due).limit(_LIMIT).with_for_update(skip_locked=True)
              .cte(f"ready_{status}"))
    return select(branch.c.id, branch.c.due)


_READY = union_all(
    _ready_kind(StepStatus.PENDING, col(StepRun.next_attempt_at)),
    _ready_kind(StepStatus.WAITING, col(StepRun.next_attempt_at)),
    # A worker died mid-step: its lease ran out.
    _ready_kind(StepStatus.RUNNING, col(StepRun.lease_expires_at)),
).subquery("ready")
_CLAIM = (
    update(StepRun)
    .where(col(StepRun.id).in_(
        select(_READY.c.id).order_by(_READY.c.due).limit(_LIMIT).scalar_subquery()))
    .values(
        status=StepStatus.RUNNING,
        lease_owner=bindparam("b_owner"),
        lease_token=bindparam("b_token"),
        lease_expires_at=bindparam("b_expires"),
        # A fired timer (delay) resumes the same attempt; anything else is a new attempt.
        attempt=case(
            (col(StepRun.status) == StepStatus.WAITING, StepRun.attempt),
            else_=StepRun.attempt + 1,
        ),
        started_at=case((col(StepRun.started_at).is_(None), _NOW), else_=StepRun.started_at),
        updated_at=_NOW,
    )
    .returning(
        StepRun.id,
        StepRun.run_id,
        StepRun.workspace_id,
        StepRun.step_key,
        StepRun.kind,
        StepRun.attempt,
        StepRun.max_attempts,
        StepRun.lease_expires_at,
    )
)


def claim_ready_steps(
    session: Session, *, owner: str, now: datetime, lease_s: float, limit: int
) -> list[Claim]:
    """Lease up to `limit` ready steps (pending, a timer that fired, or an expired lease)."""
    token = uuid.uuid4().hex
    expires = now + timedelta(seconds=lease_s)
    rows = session.connection().execute(_CLAIM, {
        "b_now": now, "b_limit": limit, "b_owner": owner, "b_token": token,
        "b_expires": expires}).all()
    return [
        Claim(
            step_id=row[0],
            run_id=row[1],
            workspace_id=row[2],
            step_key=row[3],
            kind=row[4],
            attempt=row[5],
            max_attempts=row[6],
            token=token,
            lease_expires_at=expires,
        )
        for row in rows
    ]


# The executor's hot path (a step done, its successor leased to the same worker): prebuilt
# statements with bound parameters, compiled once and cached by SQLAlchemy.
_MARK_DONE = (
    update(StepRun)
    .where(col(StepRun.id) == bindparam("b_id"), col(StepRun.lease_token) == bindparam("b_token"),
           col(StepRun.status) == StepStatus.RUNNING)
    .values(status=StepStatus.DONE, result=bindparam("b_result"), error=None,
            input=bindparam("b_input"), finished_at=bindparam("b_now"),
            updated_at=bindparam("b_now"), next_attempt_at=None, lease_owner=None,
            lease_token=None, lease_expires_at=None)
)
_INSERT = insert(StepRun)


def mark_done(session: Session, claim: Claim, *, result: Any, input: dict[str, Any],
              now: datetime) -> bool:
    """finish_claim() for the common case of a step done; False when the lease was lost."""
    outcome = session.connection().execute(_MARK_DONE, {
        "b_id": claim.step_id, "b_token": claim.token, "b_result": result, "b_input": input,
        "b_now": now})
    return outcome.rowcount == 1


def insert_step(session: Session, *, workspace_id: str, run_id: str, step_key: str, kind: str,
                seq: int, max_attempts: int, now: datetime, input: dict[str, Any] | None = None,
                lease: Lease | None = None, step_id: str | None = None) -> str:
    """add_step() in Core: pending, or with `lease` already running for the lease's owner.
    Its run must already be in the database (the foreign key is checked at once). Returns
    the step's id."""
    step_id = step_id or new_id("stp")
    session.connection().execute(_INSERT, {
        "id": step_id, "workspace_id": workspace_id, "run_id": run_id, "step_key": step_key,
        "kind": kind, "seq": seq, "status": StepStatus.RUNNING if lease else StepStatus.PENDING,
        "attempt": 1 if lease else 0, "max_attempts": max_attempts, "input": input or {},
        "result": None, "error": None, "lease_owner": lease.owner if lease else None,
        "lease_token": lease.token if lease else None,
        "lease_expires_at": lease.expires_at if lease else None, "next_attempt_at": now,
        "created_at": now, "started_at": now if lease else None, "finished_at": None,
        "updated_at": now})
    if lease is None:
        wakeup.mark(session, wakeup.STEPS)
    return step_id


def finish_claim(session: Session, claim: Claim, *, values: dict[str, Any]) -> bool:
    """Apply `values` only if this worker still holds the lease; False when it was lost."""
    statement = (
        update(StepRun)
        .where(
            col(StepRun.id) == claim.step_id,
            col(StepRun.lease_token) == claim.token,
            col(StepRun.status) == StepStatus.RUNNING,
        )
        .values(lease_owner=None, lease_token=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount == 1


_STEP_COLUMNS = ("id", "run_id", "workspace_id", "step_key", "kind", "seq", "status", "attempt",
                 "max_attempts", "input", "started_at")
_RUN_COLUMNS = ("id", "workspace_id", "workflow_id", "workflow_version_id", "version_number",
                "workflow_title", "status", "input", "outputs", "trigger", "created_at",
                "deadline_at", "parent_step_id", "steps_completed", "current_step")


_LOAD_CLAIMED = (
    select(*[getattr(StepRun, name) for name in _STEP_COLUMNS],  # type: ignore[call-overload]
           *[getattr(Run, name) for name in _RUN_COLUMNS])
    .join(Run, col(Run.id) == col(StepRun.run_id))
    .where(col(StepRun.id) == bindparam("b_id"))
)


@dataclass(frozen=True, slots=True)
class StepView:
    """What the executor reads of a claimed step (plain data: no ORM state to build)."""

    id: str
    run_id: str
    workspace_id: str
    step_key: str
    kind: str
    seq: int
    status: str
    attempt: int
    max_attempts: int
    input: dict[str, Any]
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunView:
    """What the executor reads of a claimed step's run."""

    id: str
    workspace_id: str
    workflow_id: str
    workflow_version_id: str
    version_number: int
    workflow_title: str
    status: str
    input: dict[str, Any]
    outputs: dict[str, Any]
    trigger: str
    created_at: datetime
    deadline_at: datetime | None
    parent_step_id: str | None
    steps_completed: int
    current_step: str | None


def load_claimed(session: Session, claim: Claim) -> tuple[StepView, RunView] | None:
    """The claimed step and its run in one query, as detached objects (read-only use).

    A Core select: the executor's hot path does not need ORM identity or change tracking.
    """
    row = session.connection().execute(_LOAD_CLAIMED, {"b_id": claim.step_id}).first()
    if row is None:
        return None
    values = tuple(row)
    split = len(_STEP_COLUMNS)
    return StepView(*values[:split]), RunView(*values[split:])


def add_step(
    session: Session,
    *,
    workspace_id: str,
    run_id: str,
    step_key: str,
    kind: str,
    seq: int,
    max_attempts: int,
    now: datetime,
    input: dict[str, Any] | None = None,
    lease: Lease | None = None,
) -> StepRun:
    """A new pending step, or with `lease` one already running for the lease's owner."""
    step = StepRun(
        workspace_id=workspace_id,
        run_id=run_id,
        step_key=step_key,
        kind=kind,
        seq=seq,
        status=StepStatus.PENDING,
        max_attempts=max_attempts,
        input=input or {},
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    if lease is not None:
        step.status = StepStatus.RUNNING
        step.attempt = 1
        step.started_at = now
        step.lease_owner = lease.owner
        step.lease_token = lease.token
        step.lease_expires_at = lease.expires_at
    else:
        wakeup.mark(session, wakeup.STEPS)
    session.add(step)
    return step


_RELEASE = (
    update(StepRun)
    .where(col(StepRun.id) == bindparam("b_id"), col(StepRun.lease_token) == bindparam("b_token"),
           col(StepRun.status) == StepStatus.RUNNING)
    .values(status=StepStatus.PENDING, attempt=StepRun.attempt - 1, started_at=None,
            lease_owner=None, lease_token=None, lease_expires_at=None)
)


def release_claims(session: Session, claims: Sequence[Claim]) -> int:
    """Give back new steps leased at creation but never started (the worker stopped): pending
    again, the attempt not counted. Returns how many were still held."""
    outcome = session.connection().execute(
        _RELEASE, [{"b_id": claim.step_id, "b_token": claim.token} for claim in claims])
    wakeup.mark(session, wakeup.STEPS)
    return outcome.rowcount


def claim_of(step: StepRun | StepView, lease: Lease) -> Claim:
    """The claim for a step created with a lease (see add_step)."""
    return Claim(step_id=step.id, run_id=step.run_id, workspace_id=step.workspace_id,
                 step_key=step.step_key, kind=step.kind, attempt=step.attempt,
                 max_attempts=step.max_attempts, token=lease.token,
                 lease_expires_at=lease.expires_at)


def get_step(session: Session, step_id: str, *, workspace_id: str | None = None) -> StepRun | None:
    step = session.get(StepRun, step_id)
    if step is None or (workspace_id is not None and step.workspace_id != workspace_id):
        return None
    return step


def steps_of_run(session: Session, run_id: str) -> Sequence[StepRun]:
    query = select(StepRun).where(StepRun.run_id == run_id).order_by(col(StepRun.seq))
    return session.exec(query).all()


_STEP_ROWS = (select(StepRun.__table__)  # type: ignore[call-overload]
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


def new_token() -> str:
    return uuid.uuid4().hex
