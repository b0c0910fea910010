"""Seed 002's workflows and executions at /v1 (its base URL): workflows with `nodes` and
`edges`, execute, executions with their logs, in `{"success", "data", "meta"}` answers; errors
in its envelope (app/api/errors.py). Not in the OpenAPI document: its answers are not
problem+json (docs/api.md lists these calls)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, status
from sqlmodel import Session

from app.api.deps import ReadSession, WriteSession, require
from app.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, MAX_PAGE, Rfc3339, page_of, paging_of
from app.api.routing import api_router
from app.api.schemas.seed002 import (
    Execute,
    Execution,
    ExecutionDetail,
    LogEntry,
    Ok,
    Started,
    WorkflowCreate,
    WorkflowDetail,
    WorkflowItem,
    WorkflowUpdate,
    ok,
)
from app.clock import as_utc
from app.errors import not_found
from app.models import Actor, Run, Workflow
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.repo import workflows as workflows_repo
from app.services import compat_seed002 as seed002
from app.services import runs, workflows

router = api_router(prefix="/v1", tags=["compat: seed 002"], include_in_schema=False)

Reader = Annotated[Actor, Depends(require("workflows:read"))]
Writer = Annotated[Actor, Depends(require("workflows:write"))]
RunReader = Annotated[Actor, Depends(require("runs:read"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]
DEFAULT_LIMIT = 20
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)]
ExecutionStatus = Annotated[str | None, Query(max_length=20)]


def _item(workflow: Workflow) -> WorkflowItem:
    return WorkflowItem(id=workflow.id, name=workflow.title, status=workflow.status,
                        created_at=workflow.created_at, updated_at=workflow.updated_at)


def _detail(workflow: Workflow) -> WorkflowDetail:
    nodes, edges = seed002.graph_of(workflow.definition or {})
    return WorkflowDetail(**_item(workflow).model_dump(), description=workflow.description,
                          nodes=nodes, edges=edges)


def _execution(run: Any) -> Execution:
    return Execution(id=run.id, workflow_id=run.workflow_id,
                     status=seed002.EXECUTION_STATUS.get(run.status, run.status),
                     started_at=run.created_at, completed_at=run.completed_at,
                     output=run.outputs or {})


@router.get("/workflows", name="seed002_list_workflows", response_model=Ok)
def list_workflows(caller: Reader, session: ReadSession, page: PageNumber = 1,
                   limit: Limit = DEFAULT_LIMIT,
                   status: Annotated[str | None, Query(pattern="^(draft|published)$")] = None,
                   search: Annotated[str | None, Query(max_length=200)] = None) -> Ok:
    paging = paging_of(limit=limit, page=page)
    rows = workflows_repo.list_workflows(session, workspace_id=caller.workspace_id,
                                         limit=paging.fetch, offset=paging.offset,
                                         status=status, search=search)
    shown = page_of(rows, paging, _item)
    total = workflows_repo.count_workflows(session, workspace_id=caller.workspace_id,
                                           status=status, search=search)
    return ok(shown["data"], page=page, limit=limit, total=total, has_more=shown["has_more"])


@router.get("/workflows/{id}", name="seed002_get_workflow", response_model=Ok)
def get_workflow(id: str, caller: Reader, session: ReadSession) -> Ok:
    return ok(_detail(workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                             workflow_id=id)))


@router.post("/workflows", name="seed002_create_workflow", response_model=Ok,
             status_code=status.HTTP_201_CREATED)
def create_workflow(body: WorkflowCreate, caller: Writer, session: WriteSession) -> Ok:
    return ok(_detail(seed002.create_workflow(
        session, workspace_id=caller.workspace_id, actor=caller, name=body.name,
        description=body.description, nodes=body.nodes, edges=body.edges)))


@router.patch("/workflows/{id}", name="seed002_update_workflow", response_model=Ok)
def update_workflow(id: str, body: WorkflowUpdate, caller: Writer,
                    session: WriteSession) -> Ok:
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    return ok(_detail(seed002.update_workflow(session, workspace_id=caller.workspace_id,
                                              workflow_id=id, actor=caller,
                                              changes=changes)))


@router.delete("/workflows/{id}", name="seed002_delete_workflow", response_model=Ok)
def delete_workflow(id: str, caller: Writer, session: WriteSession) -> Ok:
    workflows.delete_workflow(session, workspace_id=caller.workspace_id, workflow_id=id,
                              actor=caller)
    return ok({"id": id, "deleted": True})


@router.post("/workflows/{id}/execute", name="seed002_execute_workflow", response_model=Ok,
             status_code=status.HTTP_201_CREATED)
def execute(id: str, caller: Runner, session: WriteSession, body: Execute | None = None) -> Ok:
    started = runs.trigger_run(session, workspace_id=caller.workspace_id, workflow_id=id,
                               input=(body or Execute()).input, actor=caller)
    run = started.run
    return ok(Started(execution_id=run.id,
                      status=seed002.EXECUTION_STATUS.get(run.status, run.status),
                      started_at=run.created_at))


def _executions(session: Session, caller: Actor, *, workflow_id: str | None, shown: str | None,
                after: Any, before: Any, page: int | None, limit: int,
                cursor: str | None) -> Ok:
    paging = paging_of(limit=limit, page=page, cursor=cursor)
    filters = runs_repo.RunFilter(status=seed002.run_statuses(shown), workflow_id=workflow_id,
                                  created_after=as_utc(after) if after else None,
                                  created_before=as_utc(before) if before else None)
    rows = runs_repo.list_runs(session, workspace_id=caller.workspace_id, filters=filters,
                               limit=paging.fetch, before=paging.before, offset=paging.offset)
    body = page_of(rows, paging, _execution)
    return ok(body["data"], page=page, limit=limit, next_cursor=body["next_cursor"],
              has_more=body["has_more"])


@router.get("/workflows/{id}/executions", name="seed002_list_workflow_executions",
            response_model=Ok)
def list_workflow_executions(
        id: str, caller: RunReader, session: ReadSession, status: ExecutionStatus = None,
        from_: Annotated[Rfc3339 | None, Query(alias="from")] = None,
        to: Rfc3339 | None = None, page: Annotated[int | None, Query(ge=1, le=MAX_PAGE)] = None,
        limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Ok:
    workflow = workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                      workflow_id=id)
    return _executions(session, caller, workflow_id=workflow.id, shown=status, after=from_,
                       before=to, page=page, limit=limit, cursor=cursor)


@router.get("/executions", name="seed002_list_executions", response_model=Ok)
def list_executions(caller: RunReader, session: ReadSession, cursor: Cursor = None,
                    limit: Limit = DEFAULT_LIMIT, status: ExecutionStatus = None) -> Ok:
    return _executions(session, caller, workflow_id=None, shown=status, after=None,
                       before=None, page=None, limit=limit, cursor=cursor)


@router.get("/executions/{id}", name="seed002_get_execution", response_model=Ok)
def get_execution(id: str, caller: RunReader, session: ReadSession) -> Ok:
    run: Run | None = runs_repo.get_run(session, id, workspace_id=caller.workspace_id)
    if run is None:
        raise not_found("execution", id)
    logs = [LogEntry(step=step.step_key, kind=step.kind, status=step.status,
                     attempt=step.attempt, started_at=step.started_at,
                     finished_at=step.finished_at, error=step.error, output=step.result)
            for step in steps_repo.steps_of_run(session, run.id)]
    return ok(ExecutionDetail(**_execution(run).model_dump(), logs=logs))
