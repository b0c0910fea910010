"""Error workflows: when a run is FLAGGED, the workflow its workflow names (or else the
workspace's default) starts, with the failure as its input.

The `run.flagged` event is written with `error_pending` set in the transaction that flags the
run; this job takes each such event once (a guarded clear, in the transaction that starts the
error run), so a crash starts none twice and loses none. Loop guard: a run started by an
error workflow never starts one itself, and a workflow is never its own error workflow.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from app.clock import iso
from app.errors import ConcurrencyLimited, DomainError, FieldError, ValidationFailed, not_found
from app.models import Actor, Event, Run, StepRun, Trigger, Workflow, Workspace
from app.repo import audit, events
from app.repo import workflows as workflows_repo
from app.services import permissions
from app.services.runs import start_new_run

log = logging.getLogger(__name__)

BATCH = 20
ACTOR = Actor.system("error workflow")


def start_due(session: Session, *, public_url: str = "") -> int:
    """Start the error workflows owed by FLAGGED runs; the number of events handled."""
    handled = 0
    for event in events.flagged_pending(session, limit=BATCH):
        if not events.take_flagged(session, event.id):
            session.rollback()
            continue
        try:
            _start_for(session, event, public_url)
        except ConcurrencyLimited:
            session.rollback()  # the workspace is at its cap: the event stays owed
            break
        session.commit()
        handled += 1
    return handled


MAX_LINEAGE = 20


def _from_an_error_run(session: Session, run: Run) -> bool:
    """Whether the run is an error workflow's, or descends from one: a sub-workflow it
    started (at any depth), or a re-run of one."""
    seen = 0
    current: Run | None = run
    while current is not None and seen < MAX_LINEAGE:
        if current.trigger == Trigger.ERROR:
            return True
        seen += 1
        if current.parent_step_id:
            parent = session.get(StepRun, current.parent_step_id)
            current = session.get(Run, parent.run_id) if parent else None
        elif current.trigger == Trigger.RERUN and current.source_run_id:
            current = session.get(Run, current.source_run_id)
        else:
            current = None
    return seen >= MAX_LINEAGE  # too deep to tell: start nothing rather than loop


def _start_for(session: Session, event: Event, public_url: str) -> None:
    run = session.get(Run, event.run_id) if event.run_id else None
    if run is None or _from_an_error_run(session, run):
        return  # the loop guard: an error workflow's own failure (or its children's) starts
        # nothing
    target = error_workflow_of(session, run)
    if target is None or target == run.workflow_id:
        return
    data = (event.payload or {}).get("data") or {}
    step = session.get(StepRun, str(data.get("step_id", ""))) if data.get("step_id") else None
    failure = {
        "run": {"id": run.id, "workflow_id": run.workflow_id,
                "workflow_title": run.workflow_title, "version": run.version_number,
                "status": run.status, "trigger": run.trigger, "input": run.input,
                "created_at": iso(run.created_at),
                "url": f"{public_url.rstrip('/')}/runs/{run.id}" if public_url else ""},
        "failed_step": {"key": data.get("step_key"), "kind": step.kind if step else None,
                        "attempt": step.attempt if step else None,
                        "error": data.get("error")},
        "error": data.get("error") or "",
        "flagged_at": iso(event.created_at),
    }
    try:
        started = start_new_run(session, workspace_id=run.workspace_id, workflow_id=target,
                                input=failure, actor=ACTOR, trigger=Trigger.ERROR,
                                system_input=True, source_run_id=run.id)
    except ConcurrencyLimited:
        raise
    except DomainError as exc:  # unpublished, deleted: say so where admins look
        log.warning("error workflow %s for run %s not started: %s", target, run.id, exc)
        audit.record(session, workspace_id=run.workspace_id, actor=ACTOR,
                     action="error_workflow.not_started", resource_type="run",
                     resource_id=run.id, details={"workflow_id": target, "reason": str(exc)})
        return
    audit.record(session, workspace_id=run.workspace_id, actor=ACTOR,
                 action="error_workflow.started", resource_type="run", resource_id=run.id,
                 details={"workflow_id": target, "error_run_id": started.id})


def error_workflow_of(session: Session, run: Run) -> str | None:
    """The workflow a FLAGGED run of `run.workflow_id` starts: its own setting, else the
    workspace's default."""
    workflow = session.get(Workflow, run.workflow_id)
    if workflow is not None and workflow.error_workflow_id:
        return workflow.error_workflow_id
    workspace = session.get(Workspace, run.workspace_id)
    return workspace.error_workflow_id if workspace is not None else None


def _check_target(session: Session, workspace_id: str, target: str | None, field: str,
                  own: str | None = None) -> None:
    if target is None:
        return
    if target == own:
        raise ValidationFailed("Invalid error workflow", errors=[FieldError(
            field, "a workflow cannot be its own error workflow", "invalid")])
    if workflows_repo.workflow_ref(session, target, workspace_id=workspace_id) is None:
        raise ValidationFailed("Invalid error workflow", errors=[FieldError(
            field, f"no workflow '{target}' in this workspace", "not_found")])


def set_for_workflow(session: Session, *, actor: Actor, workflow_id: str,
                     error_workflow_id: str | None, commit: bool = True) -> Workflow:
    """Name (or clear, with None) the workflow started when a run of `workflow_id` fails;
    `commit=False` leaves the commit to a caller that changes more in the transaction."""
    if actor.is_user:  # an API key's scope was checked by its route
        permissions.require(actor.role, permissions.BUILD)
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or workflow.workspace_id != actor.workspace_id or workflow.deleted_at:
        raise not_found("workflow", workflow_id)
    _check_target(session, actor.workspace_id, error_workflow_id or None,
                  "error_workflow_id", own=workflow.id)
    before = workflow.error_workflow_id
    workflow.error_workflow_id = error_workflow_id or None
    session.add(workflow)
    audit.record(session, workspace_id=actor.workspace_id, actor=actor,
                 action="workflow.error_workflow", resource_type="workflow",
                 resource_id=workflow.id,
                 details={"from": before, "to": workflow.error_workflow_id})
    if commit:
        session.commit()
    return workflow


def set_default(session: Session, *, actor: Actor, error_workflow_id: str | None) -> Workspace:
    """The workspace's default error workflow (admins)."""
    if actor.is_user:  # an API key's scope was checked by its route
        permissions.require(actor.role, permissions.MANAGE_MEMBERS)
    workspace = session.get(Workspace, actor.workspace_id)
    if workspace is None:
        raise not_found("workspace", actor.workspace_id)
    _check_target(session, actor.workspace_id, error_workflow_id or None,
                  "default_error_workflow_id")
    before = workspace.error_workflow_id
    workspace.error_workflow_id = error_workflow_id or None
    session.add(workspace)
    audit.record(session, workspace_id=actor.workspace_id, actor=actor,
                 action="workspace.error_workflow", resource_type="workspace",
                 resource_id=workspace.id,
                 details={"from": before, "to": workspace.error_workflow_id})
    session.commit()
    return workspace


def choices(session: Session, *, actor: Actor, workflow_id: str) -> dict[str, Any]:
    """What the builder's "when a run fails" control shows: this workflow's setting, the
    workspace default, and the workflows one may name (not this one)."""
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or workflow.workspace_id != actor.workspace_id:
        raise not_found("workflow", workflow_id)
    workspace = session.get(Workspace, actor.workspace_id)
    rows = workflows_repo.list_workflows(session, workspace_id=actor.workspace_id, limit=200)
    titles = {w.id: w.title for w in rows}
    default = workspace.error_workflow_id if workspace is not None else None
    return {"current": workflow.error_workflow_id or "", "default": default or "",
            "default_title": titles.get(default or "", ""),
            "options": [{"id": w.id, "title": w.title} for w in rows if w.id != workflow.id]}
