"""Run use cases: trigger, cancel, retry or skip a failed step, signal a waiting step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple, TypeVar

from sqlmodel import Session

from app.clock import utcnow
from app.engine import handover, progress
from app.engine.definition import input_fields
from app.engine.fields import file_ids, validate_data
from app.engine.handover import Handover
from app.engine.progress import StaleTransition, definition_of_version
from app.engine.transition import Refused, Retried, Signalled, Skipped, decide
from app.errors import ConcurrencyLimited, Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Run, RunStatus, StepRun, Trigger
from app.repo import accounts as accounts_repo
from app.repo import audit, steps, workflows
from app.repo import runs as runs_repo
from app.services import files
from app.settings import get_settings

STALE = "The run changed while this request was handled; try again"

T = TypeVar("T")
# Called with the session and what a use case wrote, inside its transaction, just before the
# commit: the API stores its answer with the request's Idempotency-Key there.
BeforeCommit = Callable[[Session, T], None]


@contextmanager
def conflicts(*, hint: str = "", stale: str = STALE) -> Iterator[None]:
    """A transition refused (the run or step is not in a state it applies to: `hint` says
    what would be) or stale (it changed meanwhile) answers a conflict, nothing written."""
    try:
        yield
    except Refused as exc:
        raise Conflict(f"{exc}; {hint}" if hint else str(exc)) from None
    except StaleTransition:
        raise Conflict(stale) from None


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


class Started(NamedTuple):
    """A new run and its first step, as the trigger wrote them (not read back)."""

    run: Run
    first_step: StepRun


def start_new_run(session: Session, **options: Any) -> Run:
    """Start a run inside the caller's transaction (no commit); see `start_run_and_step`."""
    return start_run_and_step(session, **options).run


def start_run_and_step(
    session: Session,
    *,
    workspace_id: str,
    workflow_id: str,
    input: dict[str, Any] | None,
    actor: Actor,
    trigger: str = Trigger.API,
    version_number: int | None = None,
    free_input: bool = False,
    hand: Handover | None = None,
    system_input: bool = False,
    **origin: Any,
) -> Started:
    """Start a run inside the caller's transaction (no commit): forms and schedules compose it.
    `free_input`: a workflow without an input step takes any input object as it is (seed 004's
    flows declare no fields; their args read `{{input.key}}`). `hand`: the first step is
    leased to its taker when it has room (else it waits for any worker). Answers the run as
    written (not attached to the session)."""
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
    lookup = files.lookup(session, workspace_id=workspace_id,
                          file_ids=file_ids(fields, input or {}))
    clean, problems = validate_data(fields, input or {}, files=lookup)
    if (free_input and not fields) or system_input:  # system_input: an error workflow's
        clean, problems = dict(input or {}), []    # input is the failure, not a person's
    if problems:
        raise ValidationFailed(
            "The run input does not match the workflow's input fields",
            errors=[FieldError(f"input.{p.field}", p.message, p.code) for p in problems],
        )
    _check_concurrency(session, workspace_id)
    now = utcnow()
    state, first_step = progress.start_run(
        session, workflow_id=workflow.id, workspace_id=workspace_id, version_id=version.id,
        version_number=version.number, title=version.title, definition=definition,
        input=clean, trigger=trigger, created_by=actor.display, now=now, hand=hand,
        requester=actor.ref, **origin)
    run = runs_repo.detached_run(state, updated_at=now)
    files.attach(session, fields, clean, run_id=run.id)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="run.triggered",
                 resource_type="run", resource_id=run.id,
                 details={"workflow_id": workflow.id, "version": version.number,
                          "trigger": trigger}, at_once=True)
    return Started(run, first_step)


def trigger_run(
    session: Session,
    *,
    workspace_id: str,
    workflow_id: str,
    input: dict[str, Any] | None,
    actor: Actor,
    trigger: str = Trigger.API,
    version_number: int | None = None,
    before_commit: BeforeCommit[Started] | None = None,
) -> Started:
    """Start a run of the published version (or `version_number`) with validated input; its
    first step is handed to this process's executor after the commit. `before_commit` sees
    what was written, in the transaction (the API keeps its answer with the request's key)."""
    with handover.begin() as hand:
        started = start_run_and_step(
            session, workspace_id=workspace_id, workflow_id=workflow_id, input=input,
            actor=actor, trigger=trigger, version_number=version_number, hand=hand)
        if before_commit is not None:
            before_commit(session, started)
        hand.commit(session)
    return started


def cancel_run(session: Session, *, workspace_id: str, run_id: str, actor: Actor,
               reason: str | None = None) -> Run:
    run = _locked_run(session, workspace_id=workspace_id, run_id=run_id)
    if run.status in RunStatus.FINISHED:
        raise Conflict(f"run '{run_id}' is already {run.status}")
    why = reason or f"cancelled by {actor.display}"
    with conflicts():
        progress.cancel(session, runs_repo.run_state(run), reason=why, now=utcnow())
    audit.record(session, workspace_id=workspace_id, actor=actor, action="run.cancelled",
                 resource_type="run", resource_id=run.id, details={"reason": why})
    session.commit()
    session.refresh(run)
    return run


def _operate(session: Session, *, workspace_id: str, step_id: str, actor: Actor,
             action: str, outcome: Retried | Skipped | Signalled, hint: str,
             stale: str = STALE,
             before_commit: BeforeCommit[StepRun] | None = None) -> StepRun:
    """Decide and apply an operator's outcome for a step, audit it and commit. Answers the
    step as written (a retry's new attempt, else the step itself), read in the transaction."""
    step = steps.get_step(session, step_id, workspace_id=workspace_id)
    if step is None:
        raise not_found("step", step_id)
    run = runs_repo.lock_run(session, step.run_id)
    assert run is not None
    session.refresh(step)  # as it is now that its run is locked
    definition = definition_of_version(session, run.workflow_version_id)
    now = utcnow()
    with handover.begin() as hand, conflicts(hint=hint, stale=stale):
        transition = decide(runs_repo.run_state(run), steps.step_state(step), outcome,
                            definition, now=now)
        progress.advance(session, transition, now=now, hand=hand)
        audit.record(session, workspace_id=workspace_id, actor=actor, action=action,
                     resource_type="step", resource_id=step.id, details={"run_id": run.id})
        retried = isinstance(outcome, Retried) and transition.new_step is not None
        answered = _fresh_step(session, transition.new_step.id if retried else step.id)
        if before_commit is not None:
            before_commit(session, answered)
        hand.commit(session)
    return answered


def _fresh_step(session: Session, step_id: str) -> StepRun:
    step = steps.get_step(session, step_id)
    assert step is not None
    session.refresh(step)
    return step


FLAGGED_ONLY = "only a failed step of a FLAGGED run can be retried or skipped"


def retry_step(session: Session, *, workspace_id: str, step_id: str, actor: Actor,
               before_commit: BeforeCommit[StepRun] | None = None) -> StepRun:
    """Run a failed step of a FLAGGED run again, with a fresh retry budget, as a new entry on
    the timeline (answered)."""
    return _operate(session, workspace_id=workspace_id, step_id=step_id, actor=actor,
                    action="step.retried", outcome=Retried(), hint=FLAGGED_ONLY,
                    before_commit=before_commit)


def skip_step(session: Session, *, workspace_id: str, step_id: str, actor: Actor,
              before_commit: BeforeCommit[StepRun] | None = None) -> StepRun:
    """Mark a failed step skipped and continue the run where the step would have gone."""
    return _operate(session, workspace_id=workspace_id, step_id=step_id, actor=actor,
                    action="step.skipped", outcome=Skipped(), hint=FLAGGED_ONLY,
                    before_commit=before_commit)


def signal_step(session: Session, *, workspace_id: str, step_id: str, actor: Actor,
                payload: dict[str, Any] | None = None,
                before_commit: BeforeCommit[StepRun] | None = None) -> StepRun:
    """Release a `signal` step (seed 004's gate). A step not yet started is released too."""
    step = steps.get_step(session, step_id, workspace_id=workspace_id)
    if step is None:
        raise not_found("step", step_id)
    if step.kind != "signal":
        raise Conflict(f"step '{step_id}' is a {step.kind} step; only signal steps take ready")
    result = {"signalled": True, "payload": payload or {}, "by": actor.display}
    return _operate(session, workspace_id=workspace_id, step_id=step_id, actor=actor,
                    action="step.signalled", outcome=Signalled(result=result),
                    hint="it is not waiting for a signal",
                    stale=f"step '{step_id}' is starting right now; send ready again",
                    before_commit=before_commit)
