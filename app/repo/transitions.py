"""The one place a run's or a step's status is written: claims, hand-back of unstarted claims,
and `apply()` of a Transition decided by app/engine/transition.py.

Every write is a prebuilt statement with bound parameters, guarded: a step by the lease the
writer holds (or the statuses it was read in), a run by the status and step count it was read
with. A guard that no longer holds rejects the whole transition (the caller rolls back and
decides again on fresh data, or answers a conflict). The run is written before its steps, so
on PostgreSQL every writer locks a run's row before its steps' rows (no lock-order deadlock).

Claims are one `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …`. On
PostgreSQL the row locks let many workers claim side by side; on SQLite, where SQLAlchemy
renders FOR UPDATE as nothing, the write session's BEGIN IMMEDIATE serialises claims instead.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, insert, union_all, update
from sqlmodel import Session, col, select

from app import wakeup
from app.models import Approval, ApprovalStatus, Run, StepRun, StepStatus
from app.models.transition import SETTLING_EVENTS, NewStep, Transition
from app.repo import events
from app.repo.steps import Claim, Lease

# -- claims ------------------------------------------------------------------------------------

# A claim is one prebuilt statement: building it per call cost ten times what SQLite spends
# executing it. Each kind of ready step is its own index range (status, due time), read in due
# order and cut at the limit, so a claim reads about `limit` rows of each kind however long
# the backlog is. PostgreSQL allows FOR UPDATE in a CTE, not beside a UNION.
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
    .returning(StepRun.id, StepRun.run_id, StepRun.workspace_id, StepRun.step_key,
               StepRun.kind, StepRun.attempt, StepRun.max_attempts, StepRun.lease_expires_at)
)


def claim_ready_steps(session: Session, *, owner: str, now: datetime, lease_s: float,
                      limit: int) -> list[Claim]:
    """Lease up to `limit` ready steps (pending, a timer that fired, or an expired lease)."""
    token = new_token()
    expires = now + timedelta(seconds=lease_s)
    rows = session.connection().execute(_CLAIM, {
        "b_now": now, "b_limit": limit, "b_owner": owner, "b_token": token,
        "b_expires": expires}).all()
    return [Claim(step_id=row[0], run_id=row[1], workspace_id=row[2], step_key=row[3],
                  kind=row[4], attempt=row[5], max_attempts=row[6], token=token,
                  lease_expires_at=expires) for row in rows]


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


def new_token() -> str:
    return uuid.uuid4().hex


# -- apply ---------------------------------------------------------------------------------------


class Stale(enum.Enum):
    """Which guard rejected a transition."""

    RUN = "run"
    STEP = "step"


@dataclass
class Applied:
    """What apply() wrote: `stale` names the guard that rejected it (nothing kept then: the
    caller rolls back); `claims` are the new steps leased at creation, to hand over."""

    stale: Stale | None = None
    claims: list[Claim] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.stale is None


_STEP_VALUES = dict(
    status=bindparam("b_status"), input=bindparam("b_input"), result=bindparam("b_result"),
    error=bindparam("b_error"), attempt=bindparam("b_attempt"),
    started_at=bindparam("b_started"), finished_at=bindparam("b_finished"),
    next_attempt_at=bindparam("b_timer"), updated_at=bindparam("b_now"), lease_owner=None,
    lease_token=None, lease_expires_at=None)
_STEP_UNDER_LEASE = (
    update(StepRun)
    .where(col(StepRun.id) == bindparam("b_id"), col(StepRun.lease_token) == bindparam("b_token"),
           col(StepRun.status) == StepStatus.RUNNING)
    .values(**_STEP_VALUES))
_STEP_IN_STATUS = (
    update(StepRun)
    .where(col(StepRun.id) == bindparam("b_id"),
           col(StepRun.status).in_(bindparam("b_from", expanding=True)))
    .values(**_STEP_VALUES))
_RUN = (
    update(Run)
    .where(col(Run.id) == bindparam("b_id"), col(Run.status) == bindparam("b_from"),
           col(Run.steps_completed) == bindparam("b_from_steps"))
    .values(status=bindparam("b_status"), outputs=bindparam("b_outputs"),
            current_step=bindparam("b_current"), steps_completed=bindparam("b_steps"),
            error=bindparam("b_error"), completed_at=bindparam("b_completed"),
            updated_at=bindparam("b_now")))
_INSERT_RUN = insert(Run)
_INSERT_STEP = insert(StepRun)
_INSERT_APPROVAL = insert(Approval)
_CANCEL_APPROVALS = (
    update(Approval)
    .where(col(Approval.run_id) == bindparam("b_run"),
           col(Approval.status) == ApprovalStatus.PENDING)
    .values(status=ApprovalStatus.CANCELLED, decided_at=bindparam("b_now")))

LeaseFor = Callable[[NewStep], Lease | None]


def apply(session: Session, transition: Transition, *, now: datetime,
          lease_for: LeaseFor | None = None) -> Applied:
    """Write `transition` (and the ones it chains) in the caller's transaction. `lease_for`
    may lease a new step at creation to whoever runs it next (None leaves it pending)."""
    applied = Applied()
    _apply_one(session, transition, now, lease_for, applied)
    return applied


def _apply_one(session: Session, transition: Transition, now: datetime,
               lease_for: LeaseFor | None, applied: Applied) -> None:
    connection = session.connection()
    if transition.new_run is not None:
        _insert_run(session, transition, now)
    if transition.run is not None and not _write_run(session, transition, now):
        applied.stale = Stale.RUN
        return
    for write in transition.step_writes:
        params = {"b_id": write.step_id, "b_status": write.status, "b_input": write.input,
                  "b_result": write.result, "b_error": write.error, "b_attempt": write.attempt,
                  "b_started": write.started_at, "b_finished": write.finished_at,
                  "b_timer": write.next_attempt_at, "b_now": now}
        if write.lease_token is not None:
            moved = connection.execute(_STEP_UNDER_LEASE, {**params, "b_token": write.lease_token})
        else:
            moved = connection.execute(_STEP_IN_STATUS, {**params, "b_from": write.from_statuses})
        if moved.rowcount != 1:
            applied.stale = Stale.STEP
            return
        if write.status == StepStatus.PENDING or write.next_attempt_at is not None:
            wakeup.mark(session, wakeup.STEPS)  # a retry or a timer: due later, or now
    if transition.new_step is not None:
        lease = lease_for(transition.new_step) if lease_for is not None else None
        _insert_step(session, transition.new_step, lease)
        if lease is not None:
            applied.claims.append(_claim(transition.new_step, lease))
    _write_approvals(session, transition, now)
    _emit(session, transition)
    for chained in transition.then:
        _apply_one(session, chained, now, lease_for, applied)
        if not applied.ok:
            return


def _write_run(session: Session, transition: Transition, now: datetime) -> bool:
    write = transition.run
    assert write is not None
    moved = session.connection().execute(_RUN, {
        "b_id": write.run_id, "b_from": write.from_status,
        "b_from_steps": write.from_steps_completed, "b_status": write.status,
        "b_outputs": write.outputs, "b_current": write.current_step,
        "b_steps": write.steps_completed, "b_error": write.error,
        "b_completed": write.completed_at, "b_now": now})
    return moved.rowcount == 1


def _insert_run(session: Session, transition: Transition, now: datetime) -> None:
    run = transition.new_run
    assert run is not None
    session.connection().execute(_INSERT_RUN, {
        "id": run.id, "workspace_id": run.workspace_id, "workflow_id": run.workflow_id,
        "workflow_version_id": run.workflow_version_id, "version_number": run.version_number,
        "workflow_title": run.workflow_title, "status": run.status, "input": run.input,
        "outputs": run.outputs, "current_step": run.current_step,
        "steps_completed": run.steps_completed, "trigger": run.trigger,
        "idempotency_key": None, "parent_step_id": run.parent_step_id,
        "created_by": run.created_by, "error": run.error, "created_at": run.created_at,
        "updated_at": now, "completed_at": run.completed_at, "deadline_at": run.deadline_at})


def _insert_step(session: Session, step: NewStep, lease: Lease | None) -> None:
    session.connection().execute(_INSERT_STEP, {
        "id": step.id, "workspace_id": step.workspace_id, "run_id": step.run_id,
        "step_key": step.step_key, "kind": step.kind, "seq": step.seq,
        "status": StepStatus.RUNNING if lease else StepStatus.PENDING,
        "attempt": 1 if lease else 0, "max_attempts": step.max_attempts, "input": step.input,
        "result": None, "error": None, "lease_owner": lease.owner if lease else None,
        "lease_token": lease.token if lease else None,
        "lease_expires_at": lease.expires_at if lease else None,
        "next_attempt_at": step.created_at, "created_at": step.created_at,
        "started_at": step.created_at if lease else None, "finished_at": None,
        "updated_at": step.created_at})
    if lease is None:
        wakeup.mark(session, wakeup.STEPS)


def _claim(step: NewStep, lease: Lease) -> Claim:
    return Claim(step_id=step.id, run_id=step.run_id, workspace_id=step.workspace_id,
                 step_key=step.step_key, kind=step.kind, attempt=1,
                 max_attempts=step.max_attempts, token=lease.token,
                 lease_expires_at=lease.expires_at)


def _write_approvals(session: Session, transition: Transition, now: datetime) -> None:
    connection = session.connection()
    if transition.new_approval is not None:
        new = transition.new_approval
        connection.execute(_INSERT_APPROVAL, {
            "id": new.id, "workspace_id": new.workspace_id, "run_id": new.run_id,
            "step_run_id": new.step_run_id, "step_key": new.step_key,
            "workflow_id": new.workflow_id, "workflow_title": new.workflow_title,
            "assignees": new.assignees, "instructions": new.instructions,
            "status": ApprovalStatus.PENDING, "comment": None, "decided_by": None,
            "decided_at": None, "due_at": new.due_at, "created_at": new.created_at})
        wakeup.mark(session, wakeup.APPROVALS)
    if transition.cancel_approvals_of_run is not None:
        cancelled = connection.execute(_CANCEL_APPROVALS, {
            "b_run": transition.cancel_approvals_of_run, "b_now": now})
        if cancelled.rowcount:
            wakeup.mark(session, wakeup.APPROVALS)


def _emit(session: Session, transition: Transition) -> None:
    if not transition.events:
        return
    events.emit_many_core(session, [
        events.CoreEvent(type=event.type, workspace_id=event.workspace_id, run_id=event.run_id,
                         workflow_id=event.workflow_id, data=event.data)
        for event in transition.events])
    for event in transition.events:
        if event.type in SETTLING_EVENTS:
            wakeup.mark_settled(session, event.run_id)
