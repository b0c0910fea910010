"""How a run moves: decide a transition (app/engine/transition.py), apply it
(app/repo/transitions.py), then what it sets off (a finished child run resumes its parent).

Every function here works inside the caller's transaction (the executor's commit or a
service's), so a step's result, the next step, the run's status and the outbox events land
together or not at all.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from threading import Lock
from typing import Any

from sqlmodel import Session

from app.engine.definition import Definition
from app.engine.handover import Handover
from app.engine.transition import Cancelled, ChildFinished, decide, plan_start
from app.models import RunStatus, StepRun
from app.models.transition import RunState, Transition
from app.repo import runs as runs_repo
from app.repo import steps, workflows
from app.repo import transitions as transitions_repo
from app.repo.transitions import Applied, Stale

_DEFINITIONS: OrderedDict[str, Definition] = OrderedDict()
_DEFINITIONS_MAX = 512
_definitions_lock = Lock()


class StaleTransition(Exception):
    """A guard of the transition no longer held: the run or step changed meanwhile."""

    def __init__(self, stale: Stale) -> None:
        super().__init__(f"the {stale.value} changed meanwhile")
        self.stale = stale


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


def advance(session: Session, transition: Transition, *, now: datetime,
            hand: Handover | None = None) -> Applied:
    """Apply `transition`, new steps leased through `hand`, then resume the parent run of a
    child run it finished. Raises StaleTransition (roll back) when a guard no longer held."""
    applied = transitions_repo.apply(session, transition, now=now,
                                     lease_for=hand.lease_for if hand is not None else None)
    if applied.stale is not None:
        raise StaleTransition(applied.stale)
    if hand is not None:
        hand.hold(applied.claims)
    resume_parent(session, transition, now=now, hand=hand)
    return applied


def resume_parent(session: Session, transition: Transition, *, now: datetime,
                  hand: Handover | None = None) -> None:
    """A child run that `transition` finished: its parent's waiting sub-workflow step
    completes (or fails, when the child was cancelled), through the same path."""
    child = transition.after
    if transition.resumes_parent_step is None or child is None:
        return
    parent_step = steps.get_step(session, transition.resumes_parent_step)
    if parent_step is None:
        return
    parent = runs_repo.lock_run(session, parent_step.run_id)
    if parent is None:
        return
    definition = definition_of_version(session, parent.workflow_version_id)
    resumed = decide(runs_repo.run_state(parent), steps.step_state(parent_step),
                     ChildFinished(run_id=child.id, status=child.status, outputs=child.outputs),
                     definition, now=now)
    advance(session, resumed, now=now, hand=hand)


def start_run(session: Session, *, workflow_id: str, workspace_id: str, version_id: str,
              version_number: int, title: str, definition: Definition, input: dict[str, Any],
              trigger: str, created_by: str | None, now: datetime,
              hand: Handover | None = None, requester: str | None = None,
              **origin: Any) -> tuple[RunState, StepRun]:
    """A new run, its first step leased through `hand` when it has a free slot; both
    answered as written (the step as a detached row). `origin`: a re-run's `start_at`,
    `outputs` and `source_run_id` (see plan_start)."""
    started = plan_start(workspace_id=workspace_id, workflow_id=workflow_id,
                         version_id=version_id, version_number=version_number, title=title,
                         definition=definition, input=input, trigger=trigger,
                         created_by=created_by, now=now, requester=requester, **origin)
    applied = advance(session, started, now=now, hand=hand)
    assert started.after is not None and started.new_step is not None
    lease = applied.leases.get(started.new_step.id)
    return started.after, transitions_repo.written_step(started.new_step, lease)


def cancel(session: Session, run: RunState, *, reason: str, now: datetime,
           resume_parent_run: bool = True) -> Applied:
    """Cancel a run with its open steps and approvals, and its child runs first."""
    open_steps = tuple(steps.step_state(step) for step in steps.open_steps_of_run(session, run.id))
    for step in open_steps:
        for child in runs_repo.child_runs(session, step.id):
            if child.status in RunStatus.ACTIVE:
                locked = runs_repo.lock_run(session, child.id)
                assert locked is not None
                cancel(session, runs_repo.run_state(locked), reason="parent run cancelled",
                       now=now, resume_parent_run=False)
    cancelled = decide(run, None, Cancelled(reason=reason, open_steps=open_steps,
                                            resume_parent=resume_parent_run), None, now=now)
    return advance(session, cancelled, now=now)
