"""Form builder use cases beyond the form services: a new form from a workflow's inputs, the
workflow's input fields to map onto, and mapping warnings for an edit not saved yet."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.engine.definition import input_fields
from app.engine.fields import FieldSpec
from app.engine.progress import definition_of_version
from app.models import Actor, Form
from app.repo import workflows
from app.services.forms import create_form, mismatched_fields

FIELD_TYPES = ("text", "email", "number", "integer", "textarea", "select", "checkbox", "date",
               "url")


def workflow_inputs(session: Session, *, workspace_id: str,
                    workflow_id: str | None) -> list[FieldSpec]:
    """The input fields of a workflow's published version (none when unpublished)."""
    if not workflow_id:
        return []
    workflow = workflows.get_workflow(session, workflow_id, workspace_id=workspace_id)
    if workflow is None or workflow.published_number is None:
        return []
    version = workflows.get_version_by_number(session, workflow.id, workflow.published_number)
    if version is None:
        return []
    return input_fields(definition_of_version(session, version.id))


def new_form(session: Session, *, workspace_id: str, actor: Actor, title: str,
             workflow_id: str | None = None) -> Form:
    """A draft (unpublished) form; with a workflow, its fields start as the workflow's inputs."""
    specs = workflow_inputs(session, workspace_id=workspace_id, workflow_id=workflow_id)
    fields = [s.model_dump(exclude_none=True) for s in specs]
    return create_form(session, workspace_id=workspace_id, actor=actor, title=title,
                       fields=fields, workflow_id=workflow_id or None)


def mapping_warnings(session: Session, *, workspace_id: str, fields: list[dict[str, Any]],
                     workflow_id: str | None, field_map: dict[str, str]) -> list[str]:
    """Where the (possibly unsaved) form and its workflow's input fields disagree."""
    if not workflow_id:
        return []
    if workflows.get_workflow(session, workflow_id, workspace_id=workspace_id) is None:
        return ["the workflow was not found"]
    draft = Form(workspace_id=workspace_id, title="draft", slug="draft", fields=fields,
                 workflow_id=workflow_id, field_map=field_map)
    return mismatched_fields(session, draft)
