"""The one transition function: given a step's outcome, decide everything a run's change
writes (pure: no I/O, no clock; `now` and the jitter draw are arguments).

Every status change of a run or a step is decided here and written by
`app/repo/transitions.apply()`: the executor's outcomes (done, failed, waiting, sleeping, a
child run to start), a person's decision, a signal, a skip, a retry, a cancel and a child run
that finished. `plan_start()` decides a new run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.clock import iso
from app.engine.approval_policy import Policy, TimerState, next_timer
from app.engine.definition import Definition, input_fields, next_of
from app.engine.fields import validate_data
from app.engine.retry import backoff_delay_s
from app.engine.steps.base import (
    Complete,
    Fail,
    Sleep,
    WaitForApproval,
    WaitForSignal,
)
from app.models import RunStatus, StepStatus, Trigger, new_id
from app.models.transition import (
    NewApproval,
    NewStep,
    RunEvent,
    RunState,
    RunWrite,
    StepState,
    StepWrite,
    Transition,
)

# A step whose lease expired this many times beyond its retry budget fails instead of looping
# forever on a poison input that kills its worker.
RECLAIM_ALLOWANCE = 5
RETRY_JITTER = 0.5


@dataclass(frozen=True, slots=True)
class StartChild:
    """A sub-workflow step's child run, its workflow resolved by the caller (a read)."""

    workflow_id: str
    version_id: str
    version_number: int
    title: str
    definition: Definition
    input: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Decided:
    """The waiting approval step was decided: approved or rejected by its votes, or timed
    out (`to`: the step its `on_timeout` names, taken whatever the decision)."""

    decision: str
    result: dict[str, Any]
    to: str | None = None


@dataclass(frozen=True, slots=True)
class Signalled:
    """An external ready released a signal step (pending or waiting)."""

    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Skipped:
    """An operator skipped the failed step of a FLAGGED run."""


@dataclass(frozen=True, slots=True)
class Retried:
    """An operator runs the failed step of a FLAGGED run again, as a new timeline entry."""


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The run is cancelled: its open steps and approvals too. `resume_parent`: False when
    the cancel comes from the parent run itself."""

    reason: str
    open_steps: tuple[StepState, ...] = ()
    resume_parent: bool = True


@dataclass(frozen=True, slots=True)
class ChildFinished:
    """The child run of this waiting sub-workflow step finished."""

    run_id: str
    status: str
    outputs: dict[str, Any]


Outcome = (Complete | Fail | Sleep | WaitForApproval | WaitForSignal | StartChild | Decided
           | Signalled | Skipped | Retried | Cancelled | ChildFinished)


class Refused(Exception):
    """The outcome does not apply to the step or the run as they are (a caller's bug or a
    request that raced another: the service answers a conflict)."""


def refusal(run: RunState, *, step_key: str, attempt: int, max_attempts: int,
            definition: Definition, now: datetime) -> str | None:
    """Why a claimed step must fail without running (None: run it)."""
    if run.deadline_at is not None and now > run.deadline_at:
        return "the run exceeded its max_duration_s"
    if attempt > max_attempts + RECLAIM_ALLOWANCE:
        return f"the worker running this step stopped {attempt - 1} times"
    if step_key not in definition.steps:
        return f"step '{step_key}' is not in this version"
    return None


def decide(run: RunState, step: StepState | None, outcome: Outcome,
           definition: Definition | None, *, now: datetime, lease_token: str | None = None,
           rand: float = 0.5) -> Transition:
    """Everything `outcome` of `step` writes. `lease_token`: the executor's lease on the step
    (its outcomes are written only under it); `rand` in [0, 1) spreads retry delays. A cancel
    concerns the whole run (step and definition None)."""
    if isinstance(outcome, Cancelled):
        return _cancelled(run, outcome, now)
    if step is None or definition is None:
        raise Refused(f"{type(outcome).__name__} needs the step and the definition")
    if isinstance(outcome, (Decided, Signalled, Skipped, Retried, ChildFinished)):
        return _operated(run, step, outcome, definition, now)
    if lease_token is None:
        raise Refused(f"{type(outcome).__name__} is an executor's outcome: it needs the lease")
    if run.status not in RunStatus.ACTIVE:  # cancelled meanwhile: the result is dropped
        return Transition(step_writes=(_step(step, StepStatus.CANCELLED, now, lease=lease_token,
                                             finished=True),))
    held = _Held(step, lease_token, now)
    if isinstance(outcome, Complete):
        done = held.finish(StepStatus.DONE, outcome.result, outcome.recorded_input)
        return _advance(run, step, done, outcome.result, outcome.next_step, definition, now)
    if isinstance(outcome, Fail):
        return _failed(run, held, outcome, definition, rand)
    if isinstance(outcome, Sleep):
        until = {"until": outcome.until.isoformat()}
        return Transition(step_writes=(held.wait(until, timer=outcome.until),))
    if isinstance(outcome, StartChild):
        return _start_child(run, held, outcome, now)
    return _blocked(run, held, outcome, now)


def plan_start(*, workspace_id: str, workflow_id: str, version_id: str, version_number: int,
               title: str, definition: Definition, input: dict[str, Any], trigger: str,
               created_by: str | None, now: datetime,
               parent_step_id: str | None = None, requester: str | None = None,
               start_at: str | None = None, outputs: dict[str, Any] | None = None,
               source_run_id: str | None = None) -> Transition:
    """A new run IN_PROGRESS with its first step pending (or leased by the apply). A re-run
    starts at `start_at` with the `outputs` it keeps of the run it came from."""
    deadline = (now + timedelta(seconds=definition.max_duration_s)
                if definition.max_duration_s else None)
    start = start_at or definition.start
    run = RunState(
        id=new_id("run"), workspace_id=workspace_id, workflow_id=workflow_id,
        workflow_version_id=version_id, version_number=version_number, workflow_title=title,
        status=RunStatus.IN_PROGRESS, input=input, outputs=dict(outputs or {}), trigger=trigger,
        created_at=now, deadline_at=deadline, parent_step_id=parent_step_id, steps_completed=0,
        current_step=start, created_by=created_by, requester=requester,
        source_run_id=source_run_id)
    extra: dict[str, Any] = {"source_run_id": source_run_id, "start_at": start} if (
        source_run_id) else {}
    return Transition(
        new_run=run, after=run,
        new_step=_new_step(run, start, definition.steps[start], seq=0, input={}, now=now),
        events=(_event(run, "run.started", trigger=trigger,
                       input_fields=[f.name for f in input_fields(definition)], **extra),))


# -- the executor's outcomes ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Held:
    """A step the executor holds under a lease: its writes carry the lease as their guard."""

    step: StepState
    lease: str
    now: datetime

    def finish(self, status: str, result: Any = None, recorded: dict[str, Any] | None = None,
               error: str | None = None) -> StepWrite:
        return _step(self.step, status, self.now, lease=self.lease, finished=True,
                     result=result, error=error, input={**self.step.input, **(recorded or {})})

    def wait(self, recorded: dict[str, Any], *, timer: datetime | None = None,
             status: str = StepStatus.WAITING, error: str | None = None) -> StepWrite:
        return _step(self.step, status, self.now, lease=self.lease, timer=timer, error=error,
                     input={**self.step.input, **recorded})


def _failed(run: RunState, held: _Held, outcome: Fail, definition: Definition,
            rand: float) -> Transition:
    step, now = held.step, held.now
    policy = getattr(definition.steps.get(step.step_key), "retry", None)
    if outcome.retryable and policy is not None and step.attempt < step.max_attempts:
        delay = backoff_delay_s(step.attempt, base_s=policy.backoff_s,
                                max_s=policy.max_backoff_s, jitter=RETRY_JITTER,
                                rand=lambda: rand)
        if outcome.retry_after_s is not None:
            delay = max(delay, min(outcome.retry_after_s, policy.max_backoff_s))
        return Transition(step_writes=(held.wait(
            outcome.recorded_input, timer=now + timedelta(seconds=delay),
            status=StepStatus.PENDING, error=outcome.error),))
    return _flag(run, step, held.finish(StepStatus.FAILED, recorded=outcome.recorded_input,
                                        error=outcome.error), outcome.error, now)


def _blocked(run: RunState, held: _Held, outcome: WaitForApproval | WaitForSignal,
             now: datetime) -> Transition:
    step = held.step
    after = replace(run, status=RunStatus.BLOCKED)
    extra: dict[str, Any] = {"step_key": step.step_key, "step_id": step.id}
    approval = None
    if isinstance(outcome, WaitForApproval):
        approval = NewApproval(
            id=new_id("apr"), workspace_id=run.workspace_id, run_id=run.id,
            step_run_id=step.id, step_key=step.step_key, workflow_id=run.workflow_id,
            workflow_title=run.workflow_title, assignees=list(outcome.assignees),
            instructions=outcome.instructions, due_at=outcome.due_at, created_at=now,
            policy=dict(outcome.policy), next_timer_at=next_timer(
                Policy.of_json(outcome.policy, outcome.assignees),
                TimerState(created_at=now, due_at=outcome.due_at)))
        extra.update(waiting_for="approval", approval_id=approval.id,
                     assignees=approval.assignees, instructions=approval.instructions)
    else:
        extra.update(waiting_for="signal")
    events: tuple[RunEvent, ...] = (_event(after, "run.awaiting_approval", **extra),)
    if approval is not None:
        events += (_event(after, "approval.created", step_key=step.step_key, step_id=step.id,
                          approval_id=approval.id, assignees=approval.assignees,
                          instructions=approval.instructions, due_at=iso(approval.due_at),
                          policy=approval.policy),)
    return Transition(step_writes=(held.wait({}),), run=_run_write(run, after, now),
                      new_approval=approval, after=after, events=events)


def _start_child(run: RunState, held: _Held, outcome: StartChild, now: datetime) -> Transition:
    clean, problems = validate_data(input_fields(outcome.definition), outcome.input)
    if problems:
        listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
        error = f"sub-workflow input is invalid: {listed}"
        return _flag(run, held.step, held.finish(StepStatus.FAILED, error=error), error, now)
    child = plan_start(workspace_id=run.workspace_id, workflow_id=outcome.workflow_id,
                       version_id=outcome.version_id, version_number=outcome.version_number,
                       title=outcome.title, definition=outcome.definition, input=clean,
                       trigger=Trigger.SUBWORKFLOW, created_by=f"run:{run.id}", now=now,
                       parent_step_id=held.step.id, requester=run.requester)
    assert child.new_run is not None
    return Transition(step_writes=(held.wait({"child_run_id": child.new_run.id}),),
                      then=(child,))


# -- a person's or a system's operation on a run ---------------------------------------------


def _operated(run: RunState, step: StepState, outcome: Outcome, definition: Definition,
              now: datetime) -> Transition:
    spec = definition.steps.get(step.step_key)
    if spec is None:
        raise Refused(f"step '{step.step_key}' is not in this version")
    if isinstance(outcome, Decided):
        _expect(run, step, runs=(RunStatus.BLOCKED,), steps=(StepStatus.WAITING,))
        way = outcome.to or (next_of(spec) if outcome.decision == "approved"
                             else getattr(spec, "on_reject", None))
        done = _step(step, StepStatus.DONE, now, finished=True, result=outcome.result,
                     from_statuses=(StepStatus.WAITING,))
        moved = _advance(run, step, done, outcome.result, way, definition, now)
        decided = _event(run, "approval.decided", step_key=step.step_key, step_id=step.id,
                         **outcome.result)
        return replace(moved, events=(decided, *moved.events))
    if isinstance(outcome, Signalled):
        waiting = (StepStatus.PENDING, StepStatus.WAITING)
        _expect(run, step, runs=(RunStatus.IN_PROGRESS, RunStatus.BLOCKED), steps=waiting)
        done = _step(step, StepStatus.DONE, now, finished=True, result=outcome.result,
                     from_statuses=waiting, attempt=max(step.attempt, 1),
                     started_at=step.started_at or now)
        return _advance(run, step, done, outcome.result, next_of(spec), definition, now)
    if isinstance(outcome, ChildFinished):
        return _child_finished(run, step, outcome, definition, now)
    _expect(run, step, runs=(RunStatus.FLAGGED,), steps=(StepStatus.FAILED,))
    if isinstance(outcome, Skipped):
        way = getattr(spec, "else_", None) if spec.kind == "branch" else next_of(spec)
        skipped = _step(step, StepStatus.SKIPPED, now, finished=True,
                        from_statuses=(StepStatus.FAILED,))
        return _advance(run, step, skipped, None, way, definition, now,
                        status=StepStatus.SKIPPED)
    after = replace(run, status=RunStatus.IN_PROGRESS, error=None, current_step=step.step_key)
    previous = step.input.get("previous")
    return Transition(run=_run_write(run, after, now), after=after, new_step=_new_step(
        run, step.step_key, spec, seq=step.seq + 1,
        input={"previous": previous} if previous else {}, now=now))


def _child_finished(run: RunState, step: StepState, outcome: ChildFinished,
                    definition: Definition, now: datetime) -> Transition:
    if run.status not in RunStatus.ACTIVE or step.status != StepStatus.WAITING:
        return Transition()  # the parent moved on (cancelled, say): nothing to resume
    if outcome.status == RunStatus.COMPLETED:
        result = {"run_id": outcome.run_id, "status": outcome.status,
                  "outputs": outcome.outputs}
        done = _step(step, StepStatus.DONE, now, finished=True, result=result,
                     from_statuses=(StepStatus.WAITING,))
        return _advance(run, step, done, result, next_of(definition.steps[step.step_key]),
                        definition, now)
    error = f"sub-workflow run {outcome.run_id} ended {outcome.status}"
    failed = _step(step, StepStatus.FAILED, now, finished=True, error=error,
                   from_statuses=(StepStatus.WAITING,))
    return _flag(run, step, failed, error, now)


def _cancelled(run: RunState, outcome: Cancelled, now: datetime) -> Transition:
    if run.status in RunStatus.FINISHED:
        raise Refused(f"run '{run.id}' is already {run.status}")
    writes = tuple(_step(open_step, StepStatus.CANCELLED, now, finished=True,
                         error=outcome.reason, from_statuses=StepStatus.OPEN)
                   for open_step in outcome.open_steps)
    after = replace(run, status=RunStatus.CANCELLED, completed_at=now, error=outcome.reason)
    return Transition(
        step_writes=writes, run=_run_write(run, after, now), after=after,
        cancel_approvals_of_run=run.id,
        events=(_event(after, "run.cancelled", duration_ms=_duration_ms(run, now),
                       reason=outcome.reason),),
        resumes_parent_step=run.parent_step_id if outcome.resume_parent else None)


def _expect(run: RunState, step: StepState, *, runs: Sequence[str],
            steps: Sequence[str]) -> None:
    if run.status not in runs or step.status not in steps:
        raise Refused(f"step '{step.id}' is {step.status} in a {run.status} run")


# -- the shared pieces -----------------------------------------------------------------------


def _advance(run: RunState, step: StepState, write: StepWrite, result: Any, way: str | None,
             definition: Definition, now: datetime,
             status: str = StepStatus.DONE) -> Transition:
    """`write` finishes `step`: keep its output, then create step `way` or complete the run
    (and resume its parent's waiting step, if it is a child run)."""
    outputs = {**run.outputs, step.step_key: result}
    seen = replace(run, outputs=outputs, steps_completed=run.steps_completed + 1)
    completed = _event(run, "run.step_completed", step_key=step.step_key, step_id=step.id,
                       step_status=status, kind=step.kind)
    if way is None:
        after = replace(seen, status=RunStatus.COMPLETED, completed_at=now, error=None)
        return Transition(
            step_writes=(write,), run=_run_write(run, after, now), after=after,
            events=(completed, _event(after, "run.completed", outputs=outputs,
                                      duration_ms=_duration_ms(run, now),
                                      steps_completed=after.steps_completed)),
            resumes_parent_step=run.parent_step_id)
    after = replace(seen, status=RunStatus.IN_PROGRESS, current_step=way, error=None)
    new = _new_step(run, way, definition.steps[way], seq=step.seq + 1,
                    input={"previous": step.step_key}, now=now)
    return Transition(step_writes=(write,), run=_run_write(run, after, now), after=after,
                      new_step=new, events=(completed,))


def _flag(run: RunState, step: StepState, write: StepWrite, error: str,
          now: datetime) -> Transition:
    after = replace(run, status=RunStatus.FLAGGED, error=error)
    where = {"step_key": step.step_key, "step_id": step.id}
    return Transition(
        step_writes=(write,), run=_run_write(run, after, now), after=after,
        events=(_event(after, "run.step_completed", **where, step_status=StepStatus.FAILED,
                       kind=step.kind, error=error),
                _event(after, "run.flagged", **where, error=error)))


def _step(step: StepState, status: str, now: datetime, *, lease: str | None = None,
          finished: bool = False, timer: datetime | None = None, result: Any = None,
          error: str | None = None, input: dict[str, Any] | None = None,
          from_statuses: tuple[str, ...] = (), attempt: int | None = None,
          started_at: datetime | None = None) -> StepWrite:
    return StepWrite(
        step_id=step.id, status=status, input=step.input if input is None else input,
        attempt=step.attempt if attempt is None else attempt,
        started_at=started_at or step.started_at, finished_at=now if finished else None,
        next_attempt_at=timer, result=result, error=error, lease_token=lease,
        from_statuses=from_statuses)


def _run_write(before: RunState, after: RunState, now: datetime) -> RunWrite:
    return RunWrite(run_id=before.id, status=after.status, outputs=after.outputs,
                    current_step=after.current_step, steps_completed=after.steps_completed,
                    error=after.error, completed_at=after.completed_at, updated_at=now,
                    from_status=before.status, from_steps_completed=before.steps_completed)


def _new_step(run: RunState, key: str, spec: Any, *, seq: int, input: dict[str, Any],
              now: datetime) -> NewStep:
    retry = getattr(spec, "retry", None)
    return NewStep(id=new_id("stp"), run_id=run.id, workspace_id=run.workspace_id,
                   step_key=key, kind=spec.kind, seq=seq,
                   max_attempts=retry.max_attempts if retry is not None else 1, input=input,
                   created_at=now)


def _event(run: RunState, type: str, **extra: Any) -> RunEvent:
    data: dict[str, Any] = {"status": run.status, "workflow_title": run.workflow_title,
                            "version": run.version_number, "current_step": run.current_step}
    data.update(extra)
    return RunEvent(type=type, workspace_id=run.workspace_id, run_id=run.id,
                    workflow_id=run.workflow_id, data=data)


def _duration_ms(run: RunState, now: datetime) -> int:
    return int((now - run.created_at).total_seconds() * 1000)


def approval_result(*, decision: str, by: str, comment: str | None, approval_id: str,
                    now: datetime) -> dict[str, Any]:
    """A decided approval step's output (`steps.<key>` in later templates)."""
    return {"decision": decision, "by": by, "comment": comment or None,
            "decided_at": iso(now), "approval_id": approval_id}
