"""How a run moves: start it, finish a step and schedule the next, block, flag, finish.

Every function here works inside the caller's transaction (the executor's commit or a
service's), so a step's result, the next step, the run's status and the outbox events land
together or not at all.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta
from threading import Lock
from typing import Any

from sqlmodel import Session

from app import wakeup
from app.engine import handover
from app.engine.definition import Definition, input_fields
from app.models import (
    Approval,
    ApprovalStatus,
    Run,
    RunStatus,
    StepRun,
    StepStatus,
    Workflow,
    WorkflowVersion,
)
from app.repo import approvals as approvals_repo
from app.repo import events, steps, workflows
from app.repo import runs as runs_repo
from app.repo.workflows import VersionRef, WorkflowRef

# The run events that report a run leaving IN_PROGRESS: their commit wakes the run's waiters.
SETTLING_EVENTS = frozenset(
    {"run.awaiting_approval", "run.flagged", "run.completed", "run.cancelled"})

_DEFINITIONS: OrderedDict[str, Definition] = OrderedDict()
_DEFINITIONS_MAX = 512
_definitions_lock = Lock()


def definition_of_version(session: Session, version_id: str) -> Definition:
    """A published definition, parsed once per process (versions never change)."""
    with _definitions_lock:
        cached = _DEFINITIONS.get(version_id)
        if cached is not None:
            _DEFINITIONS.move_to_end(version_id)
            return cached
    version = workflows.get_version(session, version_id)
    if version is None:
        raise LookupError(f"workflow version {version_id} does not exist")
    definition = Definition.model_validate(version.definition)
    with _definitions_lock:
        _DEFINITIONS[version_id] = definition
        while len(_DEFINITIONS) > _DEFINITIONS_MAX:
            _DEFINITIONS.popitem(last=False)
    return definition


def max_attempts_of(step: Any) -> int:
    retry = getattr(step, "retry", None)
    return retry.max_attempts if retry is not None else 1


def run_event_data(run: Run, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "status": run.status,
        "workflow_title": run.workflow_title,
        "version": run.version_number,
        "current_step": run.current_step,
    }
    data.update(extra)
    return data


def emit_run_event(session: Session, run: Any, type: str, **data: Any) -> None:
    """A run's event (`run` an ORM row or the executor's view of one), inserted at once in
    Core: its run row need not be flushed, events name runs without a foreign key."""
    events.emit_core(
        session,
        type=type,
        workspace_id=run.workspace_id,
        run_id=run.id,
        workflow_id=run.workflow_id,
        data=run_event_data(run, **data),
    )
    if type in SETTLING_EVENTS:
        wakeup.mark_settled(session, run.id)


def start_run(
    session: Session,
    *,
    workflow: Workflow | WorkflowRef,
    version: WorkflowVersion | VersionRef,
    definition: Definition,
    input: dict[str, Any],
    trigger: str,
    created_by: str | None,
    now: datetime,
    parent_step_id: str | None = None,
) -> Run:
    deadline = None
    if definition.max_duration_s:
        deadline = now + timedelta(seconds=definition.max_duration_s)
    run = Run(
        workspace_id=workflow.workspace_id,
        workflow_id=workflow.id,
        workflow_version_id=version.id,
        version_number=version.number,
        workflow_title=version.title,
        status=RunStatus.IN_PROGRESS,
        input=input,
        outputs={},
        current_step=definition.start,
        trigger=trigger,
        parent_step_id=parent_step_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        deadline_at=deadline,
    )
    session.add(run)
    session.flush()  # the run row exists before the Core inserts that name it
    first = definition.steps[definition.start]
    lease = handover.reserve_lease(session, now)
    step_id = steps.insert_step(
        session,
        workspace_id=run.workspace_id,
        run_id=run.id,
        step_key=definition.start,
        kind=first.kind,
        seq=0,
        max_attempts=max_attempts_of(first),
        now=now,
        lease=lease,
    )
    if lease is not None:
        handover.hand_over(session, steps.Claim(
            step_id=step_id, run_id=run.id, workspace_id=run.workspace_id,
            step_key=definition.start, kind=first.kind, attempt=1,
            max_attempts=max_attempts_of(first), token=lease.token,
            lease_expires_at=lease.expires_at))
    emit_run_event(session, run, "run.started", trigger=trigger,
                   input_fields=[f.name for f in input_fields(definition)])
    return run


def record_step_done(
    session: Session,
    *,
    run: Run,
    step: StepRun,
    result: Any,
    next_key: str | None,
    definition: Definition,
    now: datetime,
    status: str = StepStatus.DONE,
    lease: steps.Lease | None = None,
) -> StepRun | None:
    """A step finished (done or skipped): keep its output, then schedule `next_key` (returned;
    leased to `lease`'s owner when given) or finish the run (None)."""
    outputs = dict(run.outputs or {})
    outputs[step.step_key] = result
    run.outputs = outputs
    run.steps_completed += 1
    run.updated_at = now
    emit_run_event(session, run, "run.step_completed", step_key=step.step_key,
                   step_id=step.id, step_status=status, kind=step.kind)
    if next_key is None:
        finish_run(session, run=run, status=RunStatus.COMPLETED, now=now)
        return None
    return schedule_step(session, run=run, key=next_key, after=step, previous_key=step.step_key,
                         definition=definition, now=now, lease=lease)


def schedule_step(
    session: Session, *, run: Run, key: str, after: StepRun, previous_key: str | None,
    definition: Definition, now: datetime, lease: steps.Lease | None = None,
) -> StepRun:
    """Add step `key` after `after`, the run's latest step (a run has one open step at a time,
    so the timeline's order is simply the latest step's seq + 1)."""
    spec = definition.steps[key]
    run.current_step = key
    run.status = RunStatus.IN_PROGRESS
    run.error = None
    run.updated_at = now
    handed = None  # a request's step: leased to this process's executor if it has room
    if lease is None:
        lease = handed = handover.reserve_lease(session, now)
    step = steps.add_step(
        session,
        workspace_id=run.workspace_id,
        run_id=run.id,
        step_key=key,
        kind=spec.kind,
        seq=after.seq + 1,
        max_attempts=max_attempts_of(spec),
        now=now,
        input={"previous": previous_key} if previous_key else {},
        lease=lease,
    )
    if handed is not None:
        handover.hand_over(session, steps.claim_of(step, handed))
    return step


def block_run(session: Session, *, run: Run, reason: str, step: StepRun, now: datetime,
              approval: Approval | None = None) -> None:
    run.status = RunStatus.BLOCKED
    run.updated_at = now
    extra: dict[str, Any] = {"step_key": step.step_key, "step_id": step.id, "waiting_for": reason}
    if approval is not None:
        extra.update(approval_id=approval.id, assignees=approval.assignees,
                     instructions=approval.instructions)
        wakeup.mark(session, wakeup.APPROVALS)
    emit_run_event(session, run, "run.awaiting_approval", **extra)


def flag_run(session: Session, *, run: Run, step: StepRun, error: str, now: datetime) -> None:
    run.status = RunStatus.FLAGGED
    run.error = error
    run.updated_at = now
    emit_run_event(session, run, "run.step_completed", step_key=step.step_key,
                   step_id=step.id, step_status=StepStatus.FAILED, kind=step.kind, error=error)
    emit_run_event(session, run, "run.flagged", step_key=step.step_key, step_id=step.id,
                   error=error)


def finish_run(session: Session, *, run: Run, status: str, now: datetime,
               error: str | None = None) -> None:
    run.status = status
    run.completed_at = now
    run.updated_at = now
    if error:
        run.error = error
    duration_ms = int((now - run.created_at).total_seconds() * 1000) if run.created_at else None
    if status == RunStatus.COMPLETED:
        emit_run_event(session, run, "run.completed", outputs=run.outputs,
                       duration_ms=duration_ms, steps_completed=run.steps_completed)
    else:
        emit_run_event(session, run, "run.cancelled", duration_ms=duration_ms, reason=error)
    if run.parent_step_id:
        _resume_parent(session, child=run, now=now)


def cancel_open_work(session: Session, *, run: Run, now: datetime, reason: str) -> None:
    """Cancel a run's pending and waiting steps, its running step's lease, its approvals."""
    for step in steps.open_steps_of_run(session, run.id):
        step.status = StepStatus.CANCELLED
        step.lease_token = None
        step.lease_owner = None
        step.lease_expires_at = None
        step.next_attempt_at = None
        step.finished_at = now
        step.updated_at = now
        step.error = reason
        session.add(step)
        for child in runs_repo.child_runs(session, step.id):
            if child.status in RunStatus.ACTIVE:
                cancel_open_work(session, run=child, now=now, reason="parent run cancelled")
                _finish_child_without_resume(session, child, now)
    for approval in approvals_repo.pending_of_run(session, run.id):
        approval.status = ApprovalStatus.CANCELLED
        approval.decided_at = now
        session.add(approval)
        wakeup.mark(session, wakeup.APPROVALS)


def _finish_child_without_resume(session: Session, child: Run, now: datetime) -> None:
    child.status = RunStatus.CANCELLED
    child.completed_at = now
    child.updated_at = now
    child.error = "parent run cancelled"
    emit_run_event(session, child, "run.cancelled", reason="parent run cancelled")


def _resume_parent(session: Session, *, child: Run, now: datetime) -> None:
    """A child run finished: its parent's waiting subworkflow step completes or fails."""
    parent_step = steps.get_step(session, child.parent_step_id or "")
    if parent_step is None or parent_step.status != StepStatus.WAITING:
        return
    parent = runs_repo.lock_run(session, parent_step.run_id)
    if parent is None or parent.status not in RunStatus.ACTIVE:
        return
    definition = definition_of_version(session, parent.workflow_version_id)
    parent_step.finished_at = now
    parent_step.updated_at = now
    if child.status == RunStatus.COMPLETED:
        result = {"run_id": child.id, "status": child.status, "outputs": child.outputs}
        parent_step.status = StepStatus.DONE
        parent_step.result = result
        session.add(parent_step)
        spec = definition.steps[parent_step.step_key]
        record_step_done(session, run=parent, step=parent_step, result=result,
                         next_key=None if spec.done else spec.next, definition=definition,
                         now=now)
    else:
        error = f"sub-workflow run {child.id} ended {child.status}"
        parent_step.status = StepStatus.FAILED
        parent_step.error = error
        session.add(parent_step)
        flag_run(session, run=parent, step=parent_step, error=error, now=now)
    session.add(parent)


def pending_approval_for_step(session: Session, step_id: str) -> Approval | None:
    for approval in approvals_repo.approvals_of_step(session, step_id):
        if approval.status == ApprovalStatus.PENDING:
            return approval
    return None
