"""Re-run a finished or FLAGGED run from one of its steps, on its pinned version or on the
latest published one: a new run (trigger `rerun`, `source_run_id` naming the old one) that
starts at that step with the old run's input and the outputs of the steps before it.

The preview says which steps may run again (every step reachable from the chosen one in the
version used) and which of those have side effects outside Flowdesk (`http` steps; starting a
sub-workflow), so nobody re-sends a payment by surprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.engine.definition import Definition, successors
from app.engine.progress import definition_of_version
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Run, RunStatus, StepStatus, Trigger
from app.repo import audit, steps
from app.repo import runs as runs_repo
from app.repo import workflows as workflows_repo
from app.services import permissions
from app.services.runs import Started, start_run_and_step

PINNED, LATEST = "pinned", "latest"
SIDE_EFFECTS = {"http": "calls an outside system", "subworkflow": "starts another workflow"}
RERUNNABLE = (RunStatus.COMPLETED, RunStatus.FLAGGED, RunStatus.CANCELLED)


@dataclass(frozen=True)
class AgainStep:
    key: str
    kind: str
    side_effect: str = ""  # what it does outside Flowdesk, if anything


@dataclass(frozen=True)
class RerunPlan:
    run_id: str
    from_step: str
    version: str  # pinned or latest
    version_number: int
    again: list[AgainStep] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # steps whose earlier outputs are kept
    choices: list[str] = field(default_factory=list)  # the steps one may re-run from

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "from_step": self.from_step, "version": self.version,
                "version_number": self.version_number, "kept_outputs": self.kept,
                "steps": [{"key": s.key, "kind": s.kind, "side_effect": s.side_effect or None}
                          for s in self.again],
                "side_effect_steps": [s.key for s in self.again if s.side_effect],
                "from_step_choices": self.choices}


def _bad(field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed("The re-run cannot start as asked",
                            errors=[FieldError(field_name, message, code)])


def _target(session: Session, run: Run, version: str) -> tuple[str, int, Definition]:
    if version == PINNED:
        return (run.workflow_version_id, run.version_number,
                definition_of_version(session, run.workflow_version_id))
    if version != LATEST:
        raise _bad("version", "must be 'pinned' (the run's own version) or 'latest'")
    workflow = workflows_repo.workflow_ref(session, run.workflow_id, workspace_id=run.workspace_id)
    number = workflow.published_number if workflow is not None else None
    ref = workflows_repo.version_ref(session, run.workflow_id, number) if number else None
    if ref is None or number is None:
        raise Conflict("The workflow has no published version to re-run on")
    return ref.id, number, definition_of_version(session, ref.id)


def _reachable(definition: Definition, start: str) -> list[str]:
    order, seen, todo = [], {start}, [start]
    while todo:
        key = todo.pop(0)
        order.append(key)
        for _, target in successors(definition.steps[key]):
            if target in definition.steps and target not in seen:
                seen.add(target)
                todo.append(target)
    return order


def plan(session: Session, *, actor: Actor, run_id: str, from_step: str,
         version: str = PINNED) -> RerunPlan:
    """What a re-run from `from_step` would do; changes nothing."""
    if actor.is_user:  # an API key's scope was checked by its route
        permissions.require(actor.role, permissions.OPERATE_RUNS)
    run = runs_repo.get_run(session, run_id, workspace_id=actor.workspace_id)
    if run is None:
        raise not_found("run", run_id)
    if run.status not in RERUNNABLE:
        raise Conflict(f"The run is {run.status}; only a completed, cancelled or FLAGGED run "
                       "can be re-run (cancel it first)")
    _, number, definition = _target(session, run, version)
    ran = list(steps.steps_of_run(session, run.id))
    choices = list(dict.fromkeys(s.step_key for s in ran if s.step_key in definition.steps))
    if from_step not in definition.steps:
        where = "the run's version" if version == PINNED else f"version {number}"
        raise _bad("from_step", f"'{from_step}' is not a step of {where}; one of: "
                   f"{', '.join(choices) or 'none'}")
    if from_step not in choices:
        raise _bad("from_step", f"the run never reached '{from_step}'; re-run from one of: "
                   f"{', '.join(choices)}")
    first_seq = min(s.seq for s in ran if s.step_key == from_step)
    kept = [s.step_key for s in ran if s.seq < first_seq and s.status in (
        StepStatus.DONE, StepStatus.SKIPPED) and s.step_key in (run.outputs or {})]
    again = [AgainStep(key=key, kind=definition.steps[key].kind,
                       side_effect=SIDE_EFFECTS.get(definition.steps[key].kind, ""))
             for key in _reachable(definition, from_step)]
    return RerunPlan(run_id=run.id, from_step=from_step, version=version,
                     version_number=number, again=again, kept=list(dict.fromkeys(kept)),
                     choices=choices)


def rerun(session: Session, *, actor: Actor, run_id: str, from_step: str,
          version: str = PINNED) -> Started:
    """Start the re-run `plan` describes, in the caller's transaction (no commit)."""
    shown = plan(session, actor=actor, run_id=run_id, from_step=from_step, version=version)
    run = runs_repo.get_run(session, run_id, workspace_id=actor.workspace_id)
    assert run is not None
    outputs = {key: (run.outputs or {})[key] for key in shown.kept}
    started = start_run_and_step(
        session, workspace_id=run.workspace_id, workflow_id=run.workflow_id,
        input=dict(run.input or {}), actor=actor, trigger=Trigger.RERUN,
        version_number=shown.version_number, free_input=True, start_at=from_step,
        outputs=outputs, source_run_id=run.id)
    audit.record(session, workspace_id=run.workspace_id, actor=actor, action="run.rerun",
                 resource_type="run", resource_id=run.id,
                 details={"new_run_id": started.run.id, "from_step": from_step,
                          "version": shown.version_number})
    return started
