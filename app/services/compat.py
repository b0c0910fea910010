"""Use cases behind the seed products' own endpoints (seed 000's /api/public, seed 004's
/api/workflow): the same runs and workflows, addressed the way those clients address them."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.engine.definition import Definition, import_seed004, is_seed004_flow
from app.engine.progress import definition_of_version
from app.errors import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    ValidationFailed,
    not_found,
)
from app.models import Actor, Run, StepRun, Trigger, Workflow
from app.repo import compat as numbers_repo
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.repo import workflows as workflows_repo
from app.services.runs import start_new_run
from app.services.workflows import add_published_workflow

RUN = "run"
STEP = "step"
# Seed 000 names workflows like `wf_employee_onboarding`: `wf_` + the title in snake case.
ALIAS_PREFIX = "wf_"
_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_NUMBER = 2**63 - 1


def title_alias(title: str) -> str:
    return ALIAS_PREFIX + _NON_WORD.sub("_", title.lower()).strip("_")


def check_org(*, workspace_id: str, org_id: str | None) -> None:
    """Seed 000 sends `orgId`: one of our workspace ids must be the key's own; any other
    value is the client's legacy organisation id, which the workspace-scoped key replaces."""
    if org_id and org_id.startswith("ws_") and org_id != workspace_id:
        raise Forbidden("orgId names a workspace this API key does not belong to",
                        extra={"reason": "workspace_mismatch"})


def resolve_workflow(session: Session, *, workspace_id: str, ref: str) -> Workflow:
    """A workflow by id, or by its seed-000 style alias (`wf_` + snake-case title)."""
    workflow = workflows_repo.get_workflow(session, ref, workspace_id=workspace_id)
    if workflow is not None:
        return workflow
    if ref.startswith(ALIAS_PREFIX):
        matches = [w for w in workflows_repo.published_workflows(session, workspace_id)
                   if title_alias(w.title) == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise Conflict(f"'{ref}' names {len(matches)} published workflows; use an id: "
                           + ", ".join(w.id for w in matches))
    raise not_found("workflow", ref)


def published_workflows(session: Session, *, workspace_id: str) -> Sequence[Workflow]:
    return workflows_repo.published_workflows(session, workspace_id)


def trigger_by_ref(session: Session, *, workspace_id: str, workflow_ref: str,
                   org_id: str | None, input: dict[str, Any] | None, actor: Actor) -> Run:
    check_org(workspace_id=workspace_id, org_id=org_id)
    workflow = resolve_workflow(session, workspace_id=workspace_id, ref=workflow_ref)
    run = start_new_run(session, workspace_id=workspace_id, workflow_id=workflow.id,
                        input=input, actor=actor, trigger=Trigger.API)
    session.commit()
    return run


# ---------------------------------------------------------------- seed 004


def ensure_numbers(session: Session, *, workspace_id: str, kind: str,
                   ref_ids: Collection[str]) -> dict[str, int]:
    """The numbers of runs or steps, assigning (and committing) those not numbered yet."""
    numbers = numbers_repo.numbers_of(session, ref_ids)
    missing = [ref for ref in dict.fromkeys(ref_ids) if ref not in numbers]
    if missing:
        try:
            numbers_repo.add_numbers(session, workspace_id=workspace_id, kind=kind,
                                     ref_ids=missing)
            session.commit()
        except IntegrityError:  # numbered by a concurrent request meanwhile
            session.rollback()
        numbers = numbers_repo.numbers_of(session, ref_ids)
    return numbers


def ref_of_number(session: Session, *, workspace_id: str, number: int, kind: str) -> str:
    found = numbers_repo.by_number(session, number) if 0 < number <= MAX_NUMBER else None
    if found is None or found.workspace_id != workspace_id or found.kind != kind:
        raise not_found("workflow" if kind == RUN else "step", str(number))
    return found.ref_id


def _seed_definition(flow: Any) -> Any:
    """Seed 004's flow format, or (leniently) one of our own definitions."""
    if is_seed004_flow(flow):
        return import_seed004(flow)
    if isinstance(flow, Mapping) and isinstance(flow.get("start"), str) and "steps" in flow:
        return dict(flow)
    return import_seed004(flow)  # raises the seed's own messages ("Flow must have a 'start' key")


def create_and_start(session: Session, *, workspace_id: str, actor: Actor, name: Any,
                     flow: Any, input: Any) -> tuple[Run, int]:
    """Seed 004's POST: create a workflow from the flow, publish it and start a run, in one
    transaction; returns the run and its number."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("Missing required field: name",
                         errors=[FieldError("name", "is required", "required")])
    if flow is None:
        raise BadRequest("Missing required field: flow",
                         errors=[FieldError("flow", "is required", "required")])
    definition = _seed_definition(flow)
    try:
        workflow, _version = add_published_workflow(session, workspace_id=workspace_id,
                                                    actor=actor, title=name.strip()[:200],
                                                    definition=definition)
    except ValidationFailed as exc:
        first = exc.errors[0] if exc.errors else None
        detail = f"Flow validation error: {first.field}: {first.message}" if first else \
            "Flow validation error"
        raise ValidationFailed(detail, errors=exc.errors) from None
    run = start_new_run(session, workspace_id=workspace_id, workflow_id=workflow.id,
                        input=input, actor=actor, trigger=Trigger.API, free_input=True)
    numbers_repo.add_numbers(session, workspace_id=workspace_id, kind=RUN, ref_ids=[run.id])
    number = numbers_repo.numbers_of(session, [run.id])[run.id]
    session.commit()
    return run, number


@dataclass(frozen=True)
class NumberedRun:
    run: Run
    number: int
    steps: list[tuple[StepRun, int]]
    definition: Definition | None


def numbered_runs(session: Session, *, workspace_id: str, limit: int) -> list[tuple[Run, int]]:
    """The newest runs of the workspace with their numbers (seed 004's list)."""
    runs = runs_repo.list_runs(session, workspace_id=workspace_id,
                               filters=runs_repo.RunFilter(), limit=limit)
    numbers = ensure_numbers(session, workspace_id=workspace_id, kind=RUN,
                             ref_ids=[r.id for r in runs])
    return [(run, numbers[run.id]) for run in runs]


def numbered_run(session: Session, *, workspace_id: str, number: int) -> NumberedRun:
    run_id = ref_of_number(session, workspace_id=workspace_id, number=number, kind=RUN)
    run = runs_repo.get_run(session, run_id, workspace_id=workspace_id)
    if run is None:
        raise not_found("workflow", str(number))
    steps = list(steps_repo.steps_of_run(session, run.id))
    numbers = ensure_numbers(session, workspace_id=workspace_id, kind=STEP,
                             ref_ids=[s.id for s in steps])
    try:
        definition: Definition | None = definition_of_version(session, run.workflow_version_id)
    except LookupError:
        definition = None
    return NumberedRun(run=run, number=number, steps=[(s, numbers[s.id]) for s in steps],
                       definition=definition)
