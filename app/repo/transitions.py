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

from sqlalchemy import BindParameter, bindparam, case, insert, union_all, update
from sqlmodel import Session, col, select

from app import wakeup
from app.models import Approval, ApprovalStatus, Run, StepRun, StepStatus
from app.models.transition import SETTLING_EVENTS, NewApproval, NewStep, RunState, Transition
from app.repo import events
from app.repo import out_of_office as away
from app.repo.lean import LeanStatement
from app.repo.steps import Claim, Lease

# -- claims ------------------------------------------------------------------------------------

# A claim is one prebuilt statement: building it per call cost ten times what SQLite spends
# executing it. Each kind of ready step is its own index range (status, due time), read in due
# order and cut at the limit, so a claim reads about `limit` rows of each kind however long
# the backlog is. PostgreSQL allows FOR UPDATE in a CTE, not beside a UNION.
_NOW: BindParameter[datetime] = bindparam("b_now")
_LIMIT: BindParameter[int] = bindparam("b_limit")


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
    .returning(col(StepRun.id), col(StepRun.run_id), col(StepRun.workspace_id),
               col(StepRun.step_key), col(StepRun.kind), col(StepRun.attempt),
               col(StepRun.max_attempts), col(StepRun.lease_expires_at))
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
    leases: dict[str, Lease] = field(default_factory=dict)  # by new step id

    @property
    def ok(self) -> bool:
        return self.stale is None

    def mine(self, own: list[Lease]) -> list[Claim]:
        """The claims made with the first of `own` (a worker's lease for its successor)."""
        return [claim for claim in self.claims if own and claim.token == own[0].token]


def written_step(step: NewStep, lease: Lease | None) -> StepRun:
    """A new step as apply() wrote it, as a detached row (a trigger's answer)."""
    return StepRun(**_step_row(step, lease))


_STEP_VALUES: dict[str, BindParameter[Any] | None] = dict(
    status=bindparam("b_status"), input=bindparam("b_input"), result=bindparam("b_result"),
    error=bindparam("b_error"), attempt=bindparam("b_attempt"),
    started_at=bindparam("b_started"), finished_at=bindparam("b_finished"),
    next_attempt_at=bindparam("b_timer"), updated_at=bindparam("b_now"), lease_owner=None,
    lease_token=None, lease_expires_at=None)
_STEP_UNDER_LEASE = LeanStatement(
    update(StepRun)
    .where(col(StepRun.id) == bindparam("b_id"), col(StepRun.lease_token) == bindparam("b_token"),
           col(StepRun.status) == StepStatus.RUNNING)
    .values(**_STEP_VALUES))
# executemany cannot expand an IN list: the (at most three) statuses a step may be read in
# are three parameters, the shorter lists padded with their last status.
_FROM = ("b_from0", "b_from1", "b_from2")
_STEP_IN_STATUS = LeanStatement(
    update(StepRun)
    .where(col(StepRun.id) == bindparam("b_id"),
           col(StepRun.status).in_([bindparam(name) for name in _FROM]))
    .values(**_STEP_VALUES))
_RUN = LeanStatement(
    update(Run)
    .where(col(Run.id) == bindparam("b_id"), col(Run.status) == bindparam("b_from"),
           col(Run.steps_completed) == bindparam("b_from_steps"))
    .values(status=bindparam("b_status"), outputs=bindparam("b_outputs"),
            current_step=bindparam("b_current"), steps_completed=bindparam("b_steps"),
            error=bindparam("b_error"), completed_at=bindparam("b_completed"),
            updated_at=bindparam("b_now")))
# The rows below (_run_row, _step_row, _approval_row) give every column.
_INSERT_RUN = LeanStatement(insert(Run), keys=list(Run.model_fields))
_INSERT_STEP = LeanStatement(insert(StepRun), keys=list(StepRun.model_fields))
_INSERT_APPROVAL = LeanStatement(insert(Approval), keys=list(Approval.model_fields))
_CANCEL_APPROVALS = LeanStatement(
    update(Approval)
    .where(col(Approval.run_id) == bindparam("b_run"),
           col(Approval.status) == ApprovalStatus.PENDING)
    .values(status=ApprovalStatus.CANCELLED, decided_at=bindparam("b_now")))

LeaseFor = Callable[[NewStep], Lease | None]


def apply(session: Session, transition: Transition, *, now: datetime,
          lease_for: LeaseFor | None = None) -> Applied:
    """Write `transition` (and the ones it chains) in the caller's transaction. `lease_for`
    may lease a new step at creation to whoever runs it next (None leaves it pending)."""
    return apply_many(session, [(transition, lease_for)], now=now)


def apply_many(session: Session, transitions: Sequence[tuple[Transition, LeaseFor | None]], *,
               now: datetime) -> Applied:
    """Write several transitions (of different runs, each with its `lease_for`) together:
    each kind of row is one executemany, in the order runs, steps, approvals, events.
    `stale` says a guard failed somewhere: the caller rolls back (with several transitions,
    it then applies them one by one to find which)."""
    applied, rows = Applied(), _Rows()
    for transition, lease_for in transitions:
        _gather(transition, now, lease_for, rows, applied)
    applied.stale = _write(session, rows, now)
    return applied


@dataclass
class _Rows:
    """The parameters of each prebuilt statement, gathered from a batch of transitions."""

    new_runs: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    leased: list[dict[str, Any]] = field(default_factory=list)
    in_status: list[dict[str, Any]] = field(default_factory=list)
    new_steps: list[dict[str, Any]] = field(default_factory=list)
    new_approvals: list[dict[str, Any]] = field(default_factory=list)
    cancel_approvals: list[dict[str, Any]] = field(default_factory=list)
    named_approvals: list[away.NamedApproval] = field(default_factory=list)  # name people
    events: list[events.CoreEvent] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    steps_due: bool = False  # a retry, a timer or a new pending step: wake the executors


def _gather(transition: Transition, now: datetime, lease_for: LeaseFor | None, rows: _Rows,
            applied: Applied) -> None:
    if transition.new_run is not None:
        rows.new_runs.append(_run_row(transition.new_run, now))
    if (write := transition.run) is not None:
        rows.runs.append({
            "b_id": write.run_id, "b_from": write.from_status,
            "b_from_steps": write.from_steps_completed, "b_status": write.status,
            "b_outputs": write.outputs, "b_current": write.current_step,
            "b_steps": write.steps_completed, "b_error": write.error,
            "b_completed": write.completed_at, "b_now": now})
    for step in transition.step_writes:
        params = {"b_id": step.step_id, "b_status": step.status, "b_input": step.input,
                  "b_result": step.result, "b_error": step.error, "b_attempt": step.attempt,
                  "b_started": step.started_at, "b_finished": step.finished_at,
                  "b_timer": step.next_attempt_at, "b_now": now}
        if step.lease_token is not None:
            rows.leased.append({**params, "b_token": step.lease_token})
        else:
            statuses = step.from_statuses[:len(_FROM)] or ("",)
            padded = statuses + (statuses[-1],) * (len(_FROM) - len(statuses))
            rows.in_status.append({**params, **dict(zip(_FROM, padded, strict=True))})
        rows.steps_due |= step.status == StepStatus.PENDING or step.next_attempt_at is not None
    if (new := transition.new_step) is not None:
        lease = lease_for(new) if lease_for is not None else None
        rows.new_steps.append(_step_row(new, lease))
        if lease is not None:
            applied.claims.append(_claim(new, lease))
            applied.leases[new.id] = lease
        else:
            rows.steps_due = True
    if (approval := transition.new_approval) is not None:
        row = _approval_row(approval)
        rows.new_approvals.append(row)
        if any("@" in assignee for assignee in approval.assignees):
            requester = transition.after.requester if transition.after is not None else None
            rows.named_approvals.append(away.NamedApproval(row=row, requester=requester))
    if transition.cancel_approvals_of_run is not None:
        rows.cancel_approvals.append({"b_run": transition.cancel_approvals_of_run, "b_now": now})
    for event in transition.events:
        rows.events.append(events.CoreEvent(
            type=event.type, workspace_id=event.workspace_id, run_id=event.run_id,
            workflow_id=event.workflow_id, data=event.data))
        if event.type in SETTLING_EVENTS:
            rows.settled.append(event.run_id)
    for chained in transition.then:
        _gather(chained, now, lease_for, rows, applied)


def _write(session: Session, rows: _Rows, now: datetime) -> Stale | None:
    connection = session.connection()

    def guarded(statement: LeanStatement, params: list[dict[str, Any]]) -> bool:
        return statement.execute(connection, params) == len(params)

    _INSERT_RUN.execute(connection, rows.new_runs)
    if not guarded(_RUN, rows.runs):  # runs first: every writer locks a run before its steps
        return Stale.RUN
    if not guarded(_STEP_UNDER_LEASE, rows.leased) or not guarded(_STEP_IN_STATUS,
                                                                   rows.in_status):
        return Stale.STEP
    _INSERT_STEP.execute(connection, rows.new_steps)
    if rows.steps_due:
        wakeup.mark(session, wakeup.STEPS)
    if rows.named_approvals:  # only approvals that name people: one query for who is away
        rows.events += away.delegate_new_approvals(session, rows.named_approvals, now)
    if _INSERT_APPROVAL.execute(connection, rows.new_approvals):
        wakeup.mark(session, wakeup.APPROVALS)
    if _CANCEL_APPROVALS.execute(connection, rows.cancel_approvals):
        wakeup.mark(session, wakeup.APPROVALS)
    events.emit_many_core(session, rows.events)
    for run_id in rows.settled:
        wakeup.mark_settled(session, run_id)
    return None


def _run_row(run: RunState, now: datetime) -> dict[str, Any]:
    return {
        "id": run.id, "workspace_id": run.workspace_id, "workflow_id": run.workflow_id,
        "workflow_version_id": run.workflow_version_id, "version_number": run.version_number,
        "workflow_title": run.workflow_title, "status": run.status, "input": run.input,
        "outputs": run.outputs, "current_step": run.current_step,
        "steps_completed": run.steps_completed, "trigger": run.trigger,
        "idempotency_key": None, "parent_step_id": run.parent_step_id,
        "created_by": run.created_by, "requester": run.requester, "error": run.error,
        "source_run_id": run.source_run_id,
        "created_at": run.created_at,
        "updated_at": now, "completed_at": run.completed_at, "deadline_at": run.deadline_at}


def _step_row(step: NewStep, lease: Lease | None) -> dict[str, Any]:
    return {
        "id": step.id, "workspace_id": step.workspace_id, "run_id": step.run_id,
        "step_key": step.step_key, "kind": step.kind, "seq": step.seq,
        "status": StepStatus.RUNNING if lease else StepStatus.PENDING,
        "attempt": 1 if lease else 0, "max_attempts": step.max_attempts, "input": step.input,
        "result": None, "error": None, "lease_owner": lease.owner if lease else None,
        "lease_token": lease.token if lease else None,
        "lease_expires_at": lease.expires_at if lease else None,
        "next_attempt_at": step.created_at, "created_at": step.created_at,
        "started_at": step.created_at if lease else None, "finished_at": None,
        "updated_at": step.created_at}


def _approval_row(new: NewApproval) -> dict[str, Any]:
    return {
        "id": new.id, "workspace_id": new.workspace_id, "run_id": new.run_id,
        "step_run_id": new.step_run_id, "step_key": new.step_key,
        "workflow_id": new.workflow_id, "workflow_title": new.workflow_title,
        "assignees": new.assignees, "instructions": new.instructions,
        "status": ApprovalStatus.PENDING, "comment": None, "decided_by": None,
        "decided_at": None, "due_at": new.due_at, "created_at": new.created_at,
        "policy": new.policy, "next_timer_at": new.next_timer_at, "reminders_sent": 0,
        "last_reminded_at": None, "escalated_at": None, "delegations": []}


def _claim(step: NewStep, lease: Lease) -> Claim:
    return Claim(step_id=step.id, run_id=step.run_id, workspace_id=step.workspace_id,
                 step_key=step.step_key, kind=step.kind, attempt=1,
                 max_attempts=step.max_attempts, token=lease.token,
                 lease_expires_at=lease.expires_at)
