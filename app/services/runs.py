"""Run use cases: trigger, cancel, retry or skip a failed step, signal a waiting step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from app.clock import utcnow
from app.engine.definition import input_fields
from app.engine.fields import validate_data
from app.engine.progress import (
    cancel_open_work,
    definition_of_version,
    finish_run,
    record_step_done,
    schedule_step,
    start_run,
)
from app.errors import ConcurrencyLimited, Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Run, RunStatus, StepRun, StepStatus, Trigger
from app.repo import accounts as accounts_repo
from app.repo import audit, steps, workflows
from app.repo import runs as runs_repo
from app.settings import get_settings


def _locked_run(session: Session, *, workspace_id: str, run_id: str) -> Run:
    run = runs_repo.get_run(session, run_id, workspace_id=workspace_id)
    if run is None:
        raise not_found("run", run_id)
    locked = runs_repo.lock_run(session, run.id)
    assert locked is not None
    return locked


def _check_concurrency(session: Session, workspace_id: str) -> None:
    own = accounts_repo.own_run_cap(session, workspace_id)
    cap = own or get_settings().max_concurrent_runs
    # Asks only whether `cap` runs exist (stops after cap rows), not how many: counting every
    # run in progress on each trigger would cost as much as the trigger itself.
    if runs_repo.has_in_progress(session, workspace_id=workspace_id, at_least=cap):
        raise ConcurrencyLimited(
            f"This workspace already has {cap} runs in progress, its limit; "
            "try again when some finish",
            extra={"limit": cap, "in_progress": cap},
        )


def start_new_run(
    session: Session,
    *,
    workspace_id: str,
    workflow_id: str,
    input: dict[str, Any] | None,
    actor: Actor,
    trigger: str = Trigger.API,
    version_number: int | None = None,
    free_input: bool = False,
) -> Run:
    """Start a run inside the caller's transaction (no commit): forms and schedules compose it.
    `free_input`: a workflow without an input step takes any input object as it is (seed 004's
    flows declare no fields; their args read `{{input.key}}`)."""
    workflow = workflows.workflow_ref(session, workflow_id, workspace_id=workspace_id)
    if workflow is None:
        raise not_found("workflow", workflow_id)
    number = version_number or workflow.published_number
    if number is None:
        raise Conflict(f"workflow '{workflow_id}' has no published version; publish it first")
    version = workflows.version_ref(session, workflow.id, number)
    if version is None:
        raise not_found("workflow version", f"{workflow_id}@{number}")
    if input is not None and not isinstance(input, dict):
        raise ValidationFailed("The run input is invalid",
                               errors=[FieldError("input", "must be a JSON object")])
    definition = definition_of_version(session, version.id)
    fields = input_fields(definition)
    clean, problems = validate_data(fields, input or {})
    if free_input and not fields:
        clean, problems = dict(input or {}), []
    if problems:
        raise ValidationFailed(
            "The run input does not match the workflow's input fields",
            errors=[FieldError(f"input.{p.field}", p.message, p.code) for p in problems],
        )
    _check_concurrency(session, workspace_id)
    run = start_run(session, workflow=workflow, version=version, definition=definition,
                    input=clean, trigger=trigger, created_by=actor.display, now=utcnow())
    audit.record(session, workspace_id=workspace_id, actor=actor, action="run.triggered",
                 resource_type="run", resource_id=run.id,
                 details={"workflow_id": workflow.id, "version": version.number,
                          "trigger": trigger}, at_once=True)
    return run


def trigger_run(
    session: Session,
    *,
    workspace_id: str,
    workflow_id: str,
    input: dict[str, Any] | None,
    actor: Actor,
    trigger: str = Trigger.API,
    version_number: int | None = None,
) -> Run:
    """Start a run of the published version (or `version_number`) with validated input."""
    run = start_new_run(session, workspace_id=workspace_id, workflow_id=workflow_id,
                        input=input, actor=actor, trigger=trigger,
                        version_number=version_number)
    session.commit()
    return run


def cancel_run(session: Session, *, workspace_id: str, run_id: str, actor: Actor,
               reason: str | None = None) -> Run:
    run = _locked_run(session, workspace_id=workspace_id, run_id=run_id)
    if run.status in RunStatus.FINISHED:
        raise Conflict(f"run '{run_id}' is already {run.status}")
    now = utcnow()
    why = reason or f"cancelled by {actor.display}"
    cancel_open_work(session, run=run, now=now, reason=why)
    finish_run(session, run=run, status=RunStatus.CANCELLED, now=now, error=why)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="run.cancelled",
                 resource_type="run", resource_id=run.id, details={"reason": why})
    session.commit()
    return run


def _failed_step(session: Session, *, workspace_id: str, step_id: str) -> tuple[StepRun, Run]:
    step = steps.get_step(session, step_id, workspace_id=workspace_id)
    if step is None:
        raise not_found("step", step_id)
    run = runs_repo.lock_run(session, step.run_id)
    assert run is not None
    if step.status != StepStatus.FAILED or run.status != RunStatus.FLAGGED:
        raise Conflict(
            f"step '{step_id}' is {step.status} in a {run.status} run; only a failed step of "
            "a FLAGGED run can be retried or skipped"
        )
    return step, run


def retry_step(session: Session, *, workspace_id: str, step_id: str, actor: Actor) -> StepRun:
    """Run a failed step again, with a fresh retry budget, as a new entry on the timeline."""
    step, run = _failed_step(session, workspace_id=workspace_id, step_id=step_id)
    definition = definition_of_version(session, run.workflow_version_id)
    retried = schedule_step(session, run=run, key=step.step_key, after=step,
                            previous_key=(step.input or {}).get("previous"),
                            definition=definition, now=utcnow())
    audit.record(session, workspace_id=workspace_id, actor=actor, action="step.retried",
                 resource_type="step", resource_id=step.id, details={"run_id": run.id})
    session.commit()
    return retried


def skip_step(session: Session, *, workspace_id: str, step_id: str, actor: Actor) -> StepRun:
    """Mark a failed step skipped and continue the run where the step would have gone."""
    step, run = _failed_step(session, workspace_id=workspace_id, step_id=step_id)
    definition = definition_of_version(session, run.workflow_version_id)
    spec = definition.steps[step.step_key]
    next_key = getattr(spec, "else_", None) if spec.kind == "branch" else (
        None if spec.done else getattr(spec, "next", None))
    now = utcnow()
    step.status = StepStatus.SKIPPED
    step.finished_at = now
    step.updated_at = now
    session.add(step)
    record_step_done(session, run=run, step=step, result=None, next_key=next_key,
                     definition=definition, now=now, status=StepStatus.SKIPPED)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="step.skipped",
                 resource_type="step", resource_id=step.id, details={"run_id": run.id})
    session.commit()
    return step


def signal_step(session: Session, *, workspace_id: str, step_id: str, actor: Actor,
                payload: dict[str, Any] | None = None) -> StepRun:
    """Release a `signal` step (seed 004's gate). A step not yet started is released too."""
    step = steps.get_step(session, step_id, workspace_id=workspace_id)
    if step is None:
        raise not_found("step", step_id)
    run = runs_repo.lock_run(session, step.run_id)
    assert run is not None
    if step.kind != "signal":
        raise Conflict(f"step '{step_id}' is a {step.kind} step; only signal steps take ready")
    if step.status not in (StepStatus.PENDING, StepStatus.WAITING) or run.status not in (
        RunStatus.IN_PROGRESS, RunStatus.BLOCKED
    ):
        raise Conflict(f"step '{step_id}' is {step.status}; it is not waiting for a signal")
    now = utcnow()
    result = {"signalled": True, "payload": payload or {}, "by": actor.display}
    released = session.execute(
        update(StepRun)
        .where(col(StepRun.id) == step.id, col(StepRun.status).in_(
            (StepStatus.PENDING, StepStatus.WAITING)))
        .values(status=StepStatus.DONE, result=result, finished_at=now, updated_at=now,
                started_at=step.started_at or now, next_attempt_at=None,
                attempt=max(step.attempt, 1))
        .execution_options(synchronize_session=False)
    ).rowcount
    if released != 1:
        raise Conflict(f"step '{step_id}' is starting right now; send ready again")
    definition = definition_of_version(session, run.workflow_version_id)
    spec = definition.steps[step.step_key]
    record_step_done(session, run=run, step=step, result=result,
                     next_key=None if spec.done else spec.next, definition=definition, now=now)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="step.signalled",
                 resource_type="step", resource_id=step.id, details={"run_id": run.id})
    session.commit()
    session.refresh(step)
    return step
