"""/api/v1/workflows: CRUD of drafts (If-Match on PATCH), validate, publish, versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Response, status
from sqlmodel import Session

from app.api.deps import IfMatch, ReadSession, WriteSession, etag, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.openapi import problems
from app.api.pagination import Created, OffsetPaging, PageRequest, Paging, page_of
from app.api.routing import api_router
from app.api.schemas.common import FieldProblem
from app.api.schemas.workflows import (
    ValidationReport,
    WorkflowCreate,
    WorkflowPage,
    WorkflowPublic,
    WorkflowSummary,
    WorkflowUpdate,
    WorkflowValidate,
    WorkflowVersionPage,
    WorkflowVersionPublic,
    WorkflowVersionSummary,
)
from app.errors import not_found
from app.models import Actor
from app.repo import workflows as workflows_repo
from app.services import error_workflows, workflows

router = api_router(prefix="/api/v1/workflows", tags=["workflows"])

Reader = Annotated[Actor, Depends(require("workflows:read"))]
Writer = Annotated[Actor, Depends(require("workflows:write"))]
WORKFLOW_LINKS = {
    "GetWorkflow": {"operationId": "get_workflow",
                    "parameters": {"workflow_id": "$response.body#/id"}},
    "UpdateWorkflow": {"operationId": "update_workflow",
                       "parameters": {"workflow_id": "$response.body#/id"}},
    "PublishWorkflow": {"operationId": "publish_workflow",
                        "parameters": {"workflow_id": "$response.body#/id"}},
    "DeleteWorkflow": {"operationId": "delete_workflow",
                       "parameters": {"workflow_id": "$response.body#/id"}},
}
Status = Annotated[str | None, Query(pattern="^(draft|published)$",
                                     description="draft or published")]
Search = Annotated[str | None, Query(max_length=200, description="Part of the title or id.")]
ATTRIBUTES = workflows_repo.WORKFLOW_ATTRIBUTES
WorkflowConditions = Annotated[Conditions, Depends(filters_param(ATTRIBUTES))]


def _with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


@router.get("", name="list_workflows", response_model=WorkflowPage,
            summary="List workflows")
def list_workflows(caller: Reader, session: ReadSession, paging: OffsetPaging,
                   created: Created, conditions: WorkflowConditions, status: Status = None,
                   search: Search = None) -> dict[str, object]:
    rows = workflows_repo.list_workflows(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, status=status,
        search=search, created_after=created.after, created_before=created.before,
        before=paging.before, offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, WorkflowSummary.model_validate)


def _searched(caller: Actor, session: Session, paging: PageRequest,
              conditions: Conditions) -> dict[str, object]:
    rows = workflows_repo.list_workflows(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, before=paging.before,
        offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, WorkflowSummary.model_validate)


add_search(router, "/search", name="search_workflows", response_model=WorkflowPage,
           summary="List workflows matching structured filters", attributes=ATTRIBUTES,
           caller=require("workflows:read"), page=_searched)


@router.post("", name="create_workflow", status_code=status.HTTP_201_CREATED,
             response_model=WorkflowPublic, summary="Create a workflow (a validated draft)",
             responses={201: {"links": WORKFLOW_LINKS}},
             openapi_extra={"x-response-headers": {"201": ["Location", "ETag"]}})
def create_workflow(body: WorkflowCreate, caller: Writer, session: WriteSession,
                    response: Response) -> WorkflowPublic:
    workflow = workflows.create_workflow(session, workspace_id=caller.workspace_id,
                                         actor=caller, title=body.title,
                                         description=body.description,
                                         definition=body.definition)
    response.headers["Location"] = f"{router.prefix}/{workflow.id}"
    _with_etag(response, workflow.version)
    return WorkflowPublic.model_validate(workflow)


@router.get("/{workflow_id}", name="get_workflow", response_model=WorkflowPublic,
            summary="Get a workflow with its draft definition", responses=problems(404),
            openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def get_workflow(workflow_id: str, caller: Reader, session: ReadSession,
                 response: Response) -> WorkflowPublic:
    workflow = workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                      workflow_id=workflow_id)
    _with_etag(response, workflow.version)
    return WorkflowPublic.model_validate(workflow)


@router.patch("/{workflow_id}", name="update_workflow", response_model=WorkflowPublic,
              summary="Change the draft (title, description, definition) or the error "
                      "workflow setting",
              responses=problems(404), openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def update_workflow(workflow_id: str, body: WorkflowUpdate, caller: Writer,
                    session: WriteSession, expected: IfMatch,
                    response: Response) -> WorkflowPublic:
    draft = {"title", "description", "definition"} & body.model_fields_set
    if "error_workflow_id" in body.model_fields_set:  # a setting, saved with any draft change
        workflow = error_workflows.set_for_workflow(
            session, actor=caller, workflow_id=workflow_id,
            error_workflow_id=body.error_workflow_id, commit=not draft)
        if not draft:
            _with_etag(response, workflow.version)
            return WorkflowPublic.model_validate(workflow)
    workflow = workflows.save_workflow(session, workspace_id=caller.workspace_id,
                                       workflow_id=workflow_id, actor=caller,
                                       expected_version=expected, title=body.title,
                                       description=body.description,
                                       definition=body.definition)
    _with_etag(response, workflow.version)
    return WorkflowPublic.model_validate(workflow)


@router.delete("/{workflow_id}", name="delete_workflow",
               status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               summary="Delete a workflow (its past runs remain)", responses=problems(404))
def delete_workflow(workflow_id: str, caller: Writer, session: WriteSession) -> Response:
    workflows.delete_workflow(session, workspace_id=caller.workspace_id,
                              workflow_id=workflow_id, actor=caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{workflow_id}/validate", name="validate_workflow",
             response_model=ValidationReport, responses=problems(404),
             summary="Check a definition (or the saved draft) without saving it")
def validate_workflow(workflow_id: str, caller: Reader, session: ReadSession,
                      body: WorkflowValidate | None = None) -> ValidationReport:
    workflow = workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                      workflow_id=workflow_id)
    raw = body.definition if body and body.definition is not None else workflow.definition
    _definition, found = workflows.check_definition(session, workspace_id=caller.workspace_id,
                                                    raw=raw, self_id=workflow.id)
    return ValidationReport(valid=not found, errors=[
        FieldProblem(field=f"definition.{p.field}", message=p.message, code=p.code)
        for p in found])


@router.post("/{workflow_id}/publish", name="publish_workflow",
             status_code=status.HTTP_201_CREATED, response_model=WorkflowVersionPublic,
             summary="Publish the draft as a new immutable version", responses={
                 **problems(404), 201: {"links": {"TriggerRun": {
                     "operationId": "trigger_workflow_run",
                     "parameters": {"workflow_id": "$response.body#/workflow_id"}}}}})
def publish_workflow(workflow_id: str, caller: Writer,
                     session: WriteSession) -> WorkflowVersionPublic:
    version = workflows.publish_workflow(session, workspace_id=caller.workspace_id,
                                         workflow_id=workflow_id, actor=caller)
    return WorkflowVersionPublic.model_validate(version)


@router.get("/{workflow_id}/versions", name="list_workflow_versions",
            response_model=WorkflowVersionPage, responses=problems(404),
            summary="List the published versions, newest first")
def list_versions(workflow_id: str, caller: Reader, session: ReadSession,
                  paging: Paging) -> dict[str, object]:
    workflow = workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                      workflow_id=workflow_id)
    rows = workflows_repo.list_versions_page(session, workflow.id, limit=paging.fetch,
                                             before=paging.before)
    return page_of(rows, paging, WorkflowVersionSummary.model_validate,
                   key=lambda v: (v.published_at, v.id))


@router.get("/{workflow_id}/versions/{number}", name="get_workflow_version",
            response_model=WorkflowVersionPublic, responses=problems(404),
            summary="Get one published version with its definition")
def get_version(workflow_id: str, number: Annotated[int, Path(ge=1, le=2**31 - 1)],
                caller: Reader, session: ReadSession) -> WorkflowVersionPublic:
    workflow = workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                      workflow_id=workflow_id)
    version = workflows_repo.get_version_by_number(session, workflow.id, number)
    if version is None:
        raise not_found("workflow version", f"{workflow_id}@{number}")
    return WorkflowVersionPublic.model_validate(version)
