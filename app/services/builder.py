"""Workflow builder use cases beyond save and publish: list rows with run statistics, duplicate,
import and export, versions (open, restore as the draft), and test runs of the draft.

A test run of an unpublished draft needs a definition a run can pin (runs always pin a
`WorkflowVersion`, whose definition never changes under them). `start_draft_test_run` freezes
the validated draft as a *draft snapshot*: a version row numbered below zero (-1, -2, …). The
snapshot is immutable like any version, so the run's timeline stays truthful while the draft
moves on; publishing, version lists and "the published version" only ever see numbers above
zero, so snapshots never become what forms, schedules or the API start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.clock import utcnow
from app.engine.definition import input_fields
from app.engine.fields import FieldSpec
from app.engine.tools import TOOLS
from app.errors import FieldError, ValidationFailed, not_found
from app.models import Actor, Run, Trigger, Workflow, WorkflowStatus, WorkflowVersion
from app.repo import accounts as accounts_repo
from app.repo import audit, listings, workflows
from app.repo import credentials as credentials_repo
from app.services.runs import start_new_run
from app.services.workflows import (
    check_definition,
    create_workflow,
    get_workflow,
    save_workflow,
)

LIST_LIMIT = 500
EXPORT_FORMAT = "flowdesk.workflow/v1"


@dataclass
class WorkflowRow:
    id: str
    title: str
    description: str
    status: str
    published_number: int | None
    updated_at: datetime
    run_count: int = 0
    runs_by_status: dict[str, int] = field(default_factory=dict)
    last_run_at: datetime | None = None


@dataclass
class VersionRow:
    number: int
    title: str
    published_by: str
    published_at: datetime
    steps: int
    is_current: bool


@dataclass
class Choice:
    value: str
    label: str


def list_workflow_rows(session: Session, *, workspace_id: str, search: str | None = None,
                       status: str | None = None) -> list[WorkflowRow]:
    """Workflows newest first, with their run counts and last run."""
    found = workflows.list_workflows(session, workspace_id=workspace_id, limit=LIST_LIMIT,
                                     status=status or None, search=(search or "").strip() or None)
    stats = listings.run_stats_by_workflow(session, workspace_id=workspace_id,
                                           workflow_ids=[w.id for w in found])
    rows = []
    for workflow in found:
        stat = stats.get(workflow.id, listings.RunStats())
        rows.append(WorkflowRow(
            id=workflow.id, title=workflow.title, description=workflow.description,
            status=workflow.status, published_number=workflow.published_number,
            updated_at=workflow.updated_at, run_count=stat.total,
            runs_by_status=stat.by_status, last_run_at=stat.last_run_at))
    return rows


def duplicate_workflow(session: Session, *, workspace_id: str, workflow_id: str,
                       actor: Actor) -> Workflow:
    """A new draft with the same title (marked as a copy), description and draft definition."""
    source = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    title = f"Copy of {source.title}"[:200]
    return create_workflow(session, workspace_id=workspace_id, actor=actor, title=title,
                           description=source.description, definition=source.definition,
                           allow_invalid=True)


def parse_import(text: str) -> tuple[str | None, str, Any]:
    """(title, description, raw definition) from pasted JSON: an export of ours, a bare
    definition, or a seed-004 flow (converted when the workflow is created)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed("The file is not valid JSON", errors=[FieldError(
            "json", f"line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
    if not isinstance(document, dict):
        raise ValidationFailed("Nothing to import", errors=[FieldError(
            "json", "expected a JSON object: a workflow export, a definition or a seed-004 flow")])
    if isinstance(document.get("definition"), dict):
        title = document.get("title") if isinstance(document.get("title"), str) else None
        description = document.get("description")
        return title, description if isinstance(description, str) else "", document["definition"]
    return None, "", document


def import_workflow(session: Session, *, workspace_id: str, actor: Actor, text: str,
                    title: str | None = None) -> Workflow:
    """Create a draft from imported JSON; problems in it are kept for the builder to show."""
    found_title, description, definition = parse_import(text)
    chosen = (title or "").strip() or found_title or "Imported workflow"
    return create_workflow(session, workspace_id=workspace_id, actor=actor, title=chosen,
                           description=description, definition=definition, allow_invalid=True)


def export_document(session: Session, *, workspace_id: str, workflow_id: str) -> dict[str, Any]:
    """The draft as a document `import_workflow` (and the API's create) accepts back."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    return {"format": EXPORT_FORMAT, "title": workflow.title,
            "description": workflow.description, "definition": workflow.definition}


def version_rows(session: Session, *, workspace_id: str, workflow_id: str) -> list[VersionRow]:
    """Published versions, newest first: who published what and when."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    return [
        VersionRow(number=v.number, title=v.title, published_by=v.published_by or "",
                   published_at=v.published_at,
                   steps=len((v.definition or {}).get("steps") or {}),
                   is_current=v.number == workflow.published_number)
        for v in workflows.list_versions(session, workflow.id)
    ]


def _version(session: Session, workspace_id: str, workflow_id: str,
             number: int) -> WorkflowVersion:
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    version = workflows.get_version_by_number(session, workflow.id, number)
    if version is None or number <= 0:
        raise not_found("workflow version", f"{workflow_id}@{number}")
    return version


def version_definition(session: Session, *, workspace_id: str, workflow_id: str,
                       number: int) -> dict[str, Any]:
    return dict(_version(session, workspace_id, workflow_id, number).definition)


def restore_version(session: Session, *, workspace_id: str, workflow_id: str, number: int,
                    actor: Actor, expected_version: int | None) -> Workflow:
    """Make a published version's definition the draft again (a stale draft is refused)."""
    version = _version(session, workspace_id, workflow_id, number)
    workflow = save_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id,
                             actor=actor, expected_version=expected_version,
                             definition=version.definition, allow_invalid=True)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="workflow.restored",
                 resource_type="workflow", resource_id=workflow_id,
                 details={"number": number, "version": workflow.version})
    session.commit()
    return workflow


def draft_input_fields(session: Session, *, workspace_id: str,
                       workflow_id: str) -> list[FieldSpec]:
    """The saved draft's input fields (the test-run dialog's form); none while it is invalid."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    definition, _ = check_definition(session, workspace_id=workspace_id,
                                     raw=workflow.definition, self_id=workflow.id)
    return input_fields(definition) if definition is not None else []


def start_draft_test_run(session: Session, *, workspace_id: str, workflow_id: str,
                         actor: Actor, input: dict[str, Any]) -> Run:
    """Run the saved draft as it is now, published or not (see the module docstring)."""
    workflow = get_workflow(session, workspace_id=workspace_id, workflow_id=workflow_id)
    definition, problems = check_definition(session, workspace_id=workspace_id,
                                            raw=workflow.definition, self_id=workflow.id)
    if definition is None:
        raise ValidationFailed("Fix the draft's problems before a test run", errors=[
            FieldError(f"definition.{p.field}", p.message, p.code) for p in problems])
    number = workflows.next_draft_snapshot_number(session, workflow.id)
    snapshot = WorkflowVersion(
        workspace_id=workspace_id, workflow_id=workflow.id, number=number,
        title=f"{workflow.title} (draft test)"[:200],
        definition=definition.model_dump(mode="json", by_alias=True, exclude_none=True),
        published_by=actor.display, published_at=utcnow())
    session.add(snapshot)
    session.flush()
    run = start_new_run(session, workspace_id=workspace_id, workflow_id=workflow.id,
                        input=input, actor=actor, trigger=Trigger.UI, version_number=number)
    session.commit()
    return run


# ---------------------------------------------------------------- pickers


def workflow_choices(session: Session, *, workspace_id: str,
                     published_only: bool = True) -> list[Choice]:
    """Workflows a subworkflow step (published only) or a form can start."""
    found = workflows.list_workflows(session, workspace_id=workspace_id, limit=LIST_LIMIT)
    return [
        Choice(w.id, w.title if w.status == WorkflowStatus.PUBLISHED else f"{w.title} (draft)")
        for w in found
        if not published_only or w.published_number is not None
    ]


def credential_choices(session: Session, *, workspace_id: str) -> list[Choice]:
    """Credential names for the http step's picker; never their values."""
    return [Choice(c.name, f"{c.name} ({c.type})")
            for c in credentials_repo.list_credentials(session, workspace_id=workspace_id)]


def assignee_choices(session: Session, *, workspace_id: str) -> list[Choice]:
    members = accounts_repo.members_of_workspace(session, workspace_id)
    return [Choice(f"user:{user.email}", f"{user.email} ({membership.role})")
            for membership, user in members]


def tool_choices() -> list[Choice]:
    return [Choice(name, f"{name}: {tool.description}" if tool.description else name)
            for name, tool in sorted(TOOLS.items())]
