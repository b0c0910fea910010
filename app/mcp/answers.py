"""What each MCP tool answers, read and written through the services in one session each,
in the REST API's own shapes (app/api/schemas), as JSON-ready dicts. Blocking: the server
calls these in worker threads."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.api.pagination import PageRequest, decode_cursor, page_of
from app.api.schemas.approvals import ApprovalPublic
from app.api.schemas.forms import FormPublic, SubmissionPublic
from app.api.schemas.runs import RunPublic
from app.api.schemas.workflows import WorkflowPublic, WorkflowSummary
from app.db import read_session, write_session
from app.errors import not_found
from app.mcp.schema import fields_schema
from app.models import Actor, ApprovalStatus
from app.repo import approvals as approvals_repo
from app.repo import forms as forms_repo
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.repo import workflows as workflows_repo
from app.services import approvals, builder, form_builder, forms, runs, workflows
from app.settings import get_settings

WORKFLOW_URI = "flowdesk://workflows/{workflow_id}"
VIA = "mcp"  # how a vote cast here is recorded (the API's say "api")


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def _page(limit: int, cursor: str | None) -> PageRequest:
    return PageRequest(limit=limit, before=decode_cursor(cursor))


def _workflow_summary(workflow: Any) -> dict[str, Any]:
    return {**_json(WorkflowSummary.model_validate(workflow)),
            "resource_uri": WORKFLOW_URI.format(workflow_id=workflow.id)}


def list_workflows(actor: Actor, *, status: str | None, search: str | None, limit: int,
                   cursor: str | None) -> dict[str, Any]:
    paging = _page(limit, cursor)
    with read_session() as session:
        rows = workflows_repo.list_workflows(session, workspace_id=actor.workspace_id,
                                             limit=paging.fetch, status=status, search=search,
                                             before=paging.before)
        return page_of(rows, paging, _workflow_summary)


def describe_workflow(actor: Actor, *, workflow_id: str) -> dict[str, Any]:
    """The workflow with its draft definition, and the JSON Schema of the input a run of its
    published version takes (of the draft's, while it is unpublished: it cannot run yet)."""
    with read_session() as session:
        workflow = workflows.get_workflow(session, workspace_id=actor.workspace_id,
                                          workflow_id=workflow_id)
        published = workflow.published_number is not None
        fields = (form_builder.workflow_inputs(session, workspace_id=actor.workspace_id,
                                               workflow_id=workflow.id) if published
                  else builder.draft_input_fields(session, workspace_id=actor.workspace_id,
                                                  workflow_id=workflow.id))
        return {**_json(WorkflowPublic.model_validate(workflow)),
                "resource_uri": WORKFLOW_URI.format(workflow_id=workflow.id),
                "can_trigger": published,
                "input_schema": fields_schema(fields)}


def workflow_definition(actor: Actor, *, workflow_id: str) -> dict[str, Any]:
    with read_session() as session:
        workflow = workflows.get_workflow(session, workspace_id=actor.workspace_id,
                                          workflow_id=workflow_id)
        return _json(WorkflowPublic.model_validate(workflow))


def trigger_run(actor: Actor, *, workflow_id: str, input: dict[str, Any],
                version: int | None) -> tuple[str, str]:
    """Start a run; (its id, its status as the trigger's commit left it)."""
    with write_session() as session:
        started = runs.trigger_run(session, workspace_id=actor.workspace_id,
                                   workflow_id=workflow_id, input=input, actor=actor,
                                   version_number=version)
        return started.run.id, started.run.status


def run_timeline(actor: Actor, *, run_id: str) -> dict[str, Any]:
    """The run with its steps in order (input, output, error, timings) and its approvals."""
    with read_session() as session:
        run = runs_repo.run_row(session, run_id, workspace_id=actor.workspace_id)
        if run is None:
            raise not_found("run", run_id)
        answer = _json(RunPublic.of(run, steps_repo.step_rows_of_run(session, run.id)))
        found = approvals_repo.list_approvals(session, workspace_id=actor.workspace_id,
                                              run_id=run.id, limit=100, oldest_first=True)
        votes = approvals_repo.votes_of_many(session, [row.id for row in found])
        answer["approvals"] = [_json(ApprovalPublic.of(row, votes[row.id])) for row in found]
        return answer


def pending_approvals(actor: Actor, *, assignee: str | None, workflow_id: str | None,
                      run_id: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    paging = _page(limit, cursor)
    with read_session() as session:
        rows = approvals_repo.list_approvals(
            session, workspace_id=actor.workspace_id, limit=paging.fetch,
            status=ApprovalStatus.PENDING, run_id=run_id, workflow_id=workflow_id,
            assignee=assignee, before=paging.before)
        votes = approvals_repo.votes_of_many(session, [row.id for row in rows])
        return page_of(rows, paging, lambda row: _json(ApprovalPublic.of(row, votes[row.id])))


def decide_approval(actor: Actor, *, approval_id: str, decision: str, comment: str | None,
                    fields: dict[str, Any] | None) -> dict[str, Any]:
    """Vote through the approvals service: its policy (mode, quorum, requester, comment on
    reject, approver fields) accepts the vote or refuses it with its reason."""
    with write_session() as session:
        approval = approvals.decide_approval(
            session, workspace_id=actor.workspace_id, approval_id=approval_id,
            decision=decision, actor=actor, comment=comment, fields=fields, via=VIA)
        return _json(ApprovalPublic.of(approval, approvals_repo.votes_of(session, approval.id)))


def list_forms(actor: Actor, *, search: str | None, limit: int,
               cursor: str | None) -> dict[str, Any]:
    paging = _page(limit, cursor)
    base_url = get_settings().public_url
    with read_session() as session:
        rows = forms_repo.list_forms(session, workspace_id=actor.workspace_id,
                                     limit=paging.fetch, search=search, before=paging.before)
        return page_of(rows, paging, lambda row: _json(FormPublic.of(
            row, base_url=base_url, changed=forms.has_unpublished_changes(session, row))))


def list_submissions(actor: Actor, *, form_id: str, limit: int,
                     cursor: str | None) -> dict[str, Any]:
    paging = _page(limit, cursor)
    with read_session() as session:
        form = forms_repo.get_form(session, form_id, workspace_id=actor.workspace_id)
        if form is None:
            raise not_found("form", form_id)
        rows = forms_repo.list_submissions(session, form_id=form.id, limit=paging.fetch,
                                           before=paging.before)
        return page_of(rows, paging,
                       lambda row: _json(SubmissionPublic.model_validate(row)))
