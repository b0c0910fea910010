"""Workflow use cases: create, save a draft (optimistic version), validate, publish, delete."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.clock import utcnow
from app.engine.definition import (
    Definition,
    import_seed004,
    is_seed004_flow,
    validate_definition,
)
from app.engine.tools import known_tools
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Workflow, WorkflowStatus, WorkflowVersion
from app.repo import audit, workflows

MAX_TITLE = 200


def normalise_definition(raw: Any) -> Any:
    """Accept seed 004's flow format as an import format."""
    return import_seed004(raw) if is_seed004_flow(raw) else raw


def check_definition(session: Session, *, workspace_id: str, raw: Any,
                     self_id: str | None = None) -> tuple[Definition | None, list[FieldError]]:
    known = workflows.published_ids(session, workspace_id)
    if self_id:
        known.add(self_id)
    return validate_definition(normalise_definition(raw), known_tools=known_tools(),
                               known_workflows=known)


def _require_valid(session: Session, *, workspace_id: str, raw: Any,
                   self_id: str | None = None) -> dict[str, Any]:
    definition, problems = check_definition(session, workspace_id=workspace_id, raw=raw,
                                            self_id=self_id)
    if definition is None:
        raise ValidationFailed(
            "The workflow definition is invalid",
            errors=[FieldError(f"definition.{p.field}", p.message, p.code) for p in problems],
        )
    return definition.model_dump(mode="json", by_alias=True, exclude_none=True)


def _check_title(title: str | None) -> str:
    clean = (title or "").strip()
    if not clean or len(clean) > MAX_TITLE:
        code = "required" if not clean else "invalid"
        raise ValidationFailed("Invalid title", errors=[FieldError(
            "title", f"must be 1 to {MAX_TITLE} characters", code)])
    return clean


def create_workflow(session: Session, *, workspace_id: str, actor: Actor, title: str,
                    description: str = "", definition: Any = None,
                    allow_invalid: bool = False) -> Workflow:
    clean_title = _check_title(title)
    raw = normalise_definition(definition if definition is not None else {})
    stored = raw if allow_invalid else _require_valid(session, workspace_id=workspace_id, raw=raw)
    now = utcnow()
    workflow = Workflow(workspace_id=workspace_id, title=clean_title, description=description or "",
                        definition=stored, created_by=actor.display, created_at=now,
                        updated_at=now)
    session.add(workflow)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.created",
                 resource_type="workflow", resource_id=workflow.id)
    session.commit()
    return workflow


def get_workflow(session: Session, *, workspace_id: str, workflow_id: str) -> Workflow:
    workflow = workflows.get_workflow(session, workflow_id, workspace_id=workspace_id)
    if workflow is None:
        raise not_found("workflow", workflow_id)
    return workflow


def save_workflow(
    session: Session,
    *,
    workspace_id: str,
    workflow_id: str,
    actor: Actor,
    expected_version: int | None,
    title: str | None = None,
    description: str | None = None,
    definition: Any = None,
    allow_invalid: bool = False,
) -> Workflow:
    """Save the draft; a stale `expected_version` is refused (409) instead of overwriting."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    if expected_version is not None and expected_version != workflow.version:
        raise Conflict(
            f"workflow '{workflow_id}' is at version {workflow.version}, not {expected_version}; "
            "reload it and apply your change again",
            extra={"current_version": workflow.version},
        )
    if title is not None:
        workflow.title = _check_title(title)
    if description is not None:
        workflow.description = description
    if definition is not None:
        raw = normalise_definition(definition)
        workflow.definition = raw if allow_invalid else _require_valid(
            session, workspace_id=workspace_id, raw=raw, self_id=workflow.id)
    workflow.version += 1
    workflow.updated_at = utcnow()
    session.add(workflow)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.saved",
                 resource_type="workflow", resource_id=workflow.id,
                 details={"version": workflow.version})
    session.commit()
    return workflow


def publish_workflow(session: Session, *, workspace_id: str, workflow_id: str,
                     actor: Actor) -> WorkflowVersion:
    """Freeze the draft as a new immutable version; new runs use it, old runs keep theirs."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    stored = _require_valid(session, workspace_id=workspace_id, raw=workflow.definition,
                            self_id=workflow.id)
    latest = workflows.latest_version(session, workflow.id)
    number = (latest.number if latest else 0) + 1
    now = utcnow()
    version = WorkflowVersion(workspace_id=workspace_id, workflow_id=workflow.id, number=number,
                              title=workflow.title, definition=stored,
                              published_by=actor.display, published_at=now)
    session.add(version)
    workflow.status = WorkflowStatus.PUBLISHED
    workflow.published_number = number
    workflow.updated_at = now
    session.add(workflow)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.published",
                 resource_type="workflow", resource_id=workflow.id, details={"number": number})
    session.commit()
    return version


def delete_workflow(session: Session, *, workspace_id: str, workflow_id: str,
                    actor: Actor) -> None:
    """Soft delete: past runs keep their workflow; it disappears from lists and lookups."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    workflow.deleted_at = utcnow()
    session.add(workflow)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.deleted",
                 resource_type="workflow", resource_id=workflow.id)
    session.commit()


def add_published_workflow(session: Session, *, workspace_id: str, actor: Actor, title: str,
                           description: str = "",
                           definition: Any = None) -> tuple[Workflow, WorkflowVersion]:
    """Create a workflow and publish its first version inside the caller's transaction (no
    commit): seed 004's create-and-start composes it with starting the run."""
    clean_title = _check_title(title)
    stored = _require_valid(session, workspace_id=workspace_id,
                            raw=normalise_definition(definition if definition is not None
                                                     else {}))
    now = utcnow()
    workflow = Workflow(workspace_id=workspace_id, title=clean_title,
                        description=description or "", definition=stored,
                        status=WorkflowStatus.PUBLISHED, published_number=1,
                        created_by=actor.display, created_at=now, updated_at=now)
    version = WorkflowVersion(workspace_id=workspace_id, workflow_id=workflow.id, number=1,
                              title=clean_title, definition=stored, published_by=actor.display,
                              published_at=now)
    session.add(workflow)
    session.add(version)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.created",
                 resource_type="workflow", resource_id=workflow.id)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.published",
                 resource_type="workflow", resource_id=workflow.id, details={"number": 1})
    return workflow, version
