"""/api/v1/runs and /api/v1/workflows/{id}/runs: trigger (optionally waiting), list, get
with steps and outputs, cancel."""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import Depends, Query, Response, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import ReadSession, WriteSession, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.idempotency import KeptAnswer, Keyed
from app.api.openapi import problems
from app.api.pagination import Created, OffsetPaging, PageRequest, page_of
from app.api.routing import api_router
from app.api.schemas.runs import (
    RunCancel,
    RunCreate,
    RunPage,
    RunPublic,
    RunSummary,
    WorkflowRunCreate,
)
from app.api.waiting import MAX_WAIT_S, wait_until_settled
from app.db import read_session, write_session
from app.errors import not_found
from app.models import Actor, RunStatus
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.services import runs, workflows

router = api_router(prefix="/api/v1", tags=["runs"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]
_STATUS = "(IN_PROGRESS|BLOCKED|FLAGGED|COMPLETED|CANCELLED)"
STATUS_LIST = f"^{_STATUS}(,{_STATUS})*$"
StatusFilter = Annotated[str | None, Query(
    pattern=STATUS_LIST, description="One status or several, comma-separated.",
    examples=["BLOCKED,FLAGGED"])]
TriggerFilter = Annotated[str | None, Query(
    pattern="^(api|form|schedule|ui|signal|subworkflow|error|rerun)$",
    description="How runs started.")]
Search = Annotated[str | None, Query(max_length=200,
                                     description="Part of the run id or workflow title.")]
Wait = Annotated[float, Query(
    ge=0, le=MAX_WAIT_S, description="Seconds (up to 30) to wait for the run to leave "
    "IN_PROGRESS (complete, block on an approval or signal, or flag) before answering; the "
    "answer shows the run as it is then.")]
FIRST_STEP = {"step_id": "$response.body#/steps/0/id"}
RUN_LINKS = {"201": {"links": {
    "GetRun": {"operationId": "get_run", "parameters": {"run_id": "$response.body#/id"}},
    "CancelRun": {"operationId": "cancel_run", "parameters": {"run_id": "$response.body#/id"}},
    "GetFirstStep": {"operationId": "get_step", "parameters": FIRST_STEP},
    "SignalFirstStep": {"operationId": "signal_step", "parameters": FIRST_STEP},
    "RetryFirstStep": {"operationId": "retry_step", "parameters": FIRST_STEP},
    "SkipFirstStep": {"operationId": "skip_step", "parameters": FIRST_STEP},
}}}
CREATED_HEADERS = {"x-response-headers": {"201": ["Location"]}}
RunConditions = Annotated[Conditions, Depends(filters_param(runs_repo.RUN_ATTRIBUTES))]


def run_detail(session: Any, run: Any) -> RunPublic:
    """The answer for a run (an ORM row or a Core row) with its steps read as Core rows."""
    return RunPublic.of(run, steps_repo.step_rows_of_run(session, run.id))


def _trigger(caller: Actor, workflow_id: str, body: WorkflowRunCreate,
             answer: KeptAnswer[runs.Started]) -> runs.Started:
    """Start the run in one transaction with its key and answer, built from what the trigger
    wrote (no read-back)."""
    with write_session() as session:
        answer.claim(session)
        return runs.trigger_run(session, workspace_id=caller.workspace_id,
                                workflow_id=workflow_id, input=body.input, actor=caller,
                                version_number=body.version, before_commit=answer)


def _run_answer(started: runs.Started) -> RunPublic:
    return RunPublic.of(started.run, [started.first_step])


def _location(started: runs.Started) -> dict[str, str]:
    return {"Location": f"{router.prefix}/runs/{started.run.id}"}


def _load(caller: Actor, run_id: str) -> RunPublic:
    with read_session() as session:
        run = runs_repo.run_row(session, run_id, workspace_id=caller.workspace_id)
        if run is None:
            raise not_found("run", run_id)
        return run_detail(session, run)


def _load_and_keep(caller: Actor, run_id: str, answer: KeptAnswer[runs.Started]) -> None:
    """The run as it is now becomes the answer (and the key's, for a retry to replay)."""
    answer.replace(_load(caller, run_id))


async def _start(caller: Actor, workflow_id: str, body: WorkflowRunCreate, wait: float,
                 keyed: Keyed) -> Response:
    answer = KeptAnswer(keyed, _run_answer, status=status.HTTP_201_CREATED, headers=_location)
    since = time.monotonic()  # a settle after this is this trigger's run's
    started = await run_in_threadpool(_trigger, caller, workflow_id, body, answer)
    if wait <= 0 or started.run.status != RunStatus.IN_PROGRESS:
        return answer.response()  # settled already in its trigger's commit (an approval, say)
    await wait_until_settled(started.run.id, wait, since=since)
    with anyio.CancelScope(shield=True):  # a retry of this request replays what it saw
        await run_in_threadpool(_load_and_keep, caller, started.run.id, answer)
    return answer.response()


@router.post("/workflows/{workflow_id}/runs", name="trigger_workflow_run",
             status_code=status.HTTP_201_CREATED, response_model=RunPublic,
             summary="Trigger a run of the workflow's published version",
             responses={**problems(404, 409), **RUN_LINKS}, openapi_extra=CREATED_HEADERS)
async def trigger_workflow_run(workflow_id: str, caller: Runner, keyed: Keyed,
                               body: WorkflowRunCreate | None = None,
                               wait: Wait = 0) -> Response:
    return await _start(caller, workflow_id, body or WorkflowRunCreate(), wait, keyed)


@router.post("/runs", name="create_run", status_code=status.HTTP_201_CREATED,
             response_model=RunPublic, summary="Trigger a run (the workflow named in the body)",
             responses={**problems(404, 409), **RUN_LINKS}, openapi_extra=CREATED_HEADERS)
async def create_run(body: RunCreate, caller: Runner, keyed: Keyed,
                     wait: Wait = 0) -> Response:
    return await _start(caller, body.workflow_id, body, wait, keyed)


def _runs_page(caller: Actor, session: Any, paging: PageRequest,
               filters: runs_repo.RunFilter) -> dict[str, object]:
    rows = runs_repo.list_runs(session, workspace_id=caller.workspace_id, filters=filters,
                               limit=paging.fetch, before=paging.before, offset=paging.offset)
    return page_of(rows, paging, RunSummary.model_validate)


@router.get("/runs", name="list_runs", response_model=RunPage, summary="List runs")
def list_runs(caller: Reader, session: ReadSession, paging: OffsetPaging, created: Created,
              conditions: RunConditions, status: StatusFilter = None,
              workflow_id: Annotated[str | None, Query(max_length=200)] = None,
              trigger: TriggerFilter = None, search: Search = None) -> dict[str, object]:
    filters = runs_repo.RunFilter(status=status, workflow_id=workflow_id,
                                  created_after=created.after, created_before=created.before,
                                  search=search, trigger=trigger, conditions=conditions)
    return _runs_page(caller, session, paging, filters)


add_search(router, "/runs/search", name="search_runs", response_model=RunPage,
           summary="List runs matching structured filters",
           attributes=runs_repo.RUN_ATTRIBUTES, caller=require("runs:read"),
           page=lambda caller, session, paging, conditions: _runs_page(
               caller, session, paging, runs_repo.RunFilter(conditions=conditions)))


@router.get("/workflows/{workflow_id}/runs", name="list_workflow_runs",
            response_model=RunPage, responses=problems(404),
            summary="List the runs of one workflow", tags=["runs", "workflows"])
def list_workflow_runs(workflow_id: str, caller: Reader, session: ReadSession,
                       paging: OffsetPaging, created: Created, conditions: RunConditions,
                       status: StatusFilter = None) -> dict[str, object]:
    workflow = workflows.get_workflow(session, workspace_id=caller.workspace_id,
                                      workflow_id=workflow_id)
    filters = runs_repo.RunFilter(status=status, workflow_id=workflow.id,
                                  created_after=created.after, created_before=created.before,
                                  conditions=conditions)
    return _runs_page(caller, session, paging, filters)


@router.get("/runs/{run_id}", name="get_run", response_model=RunPublic,
            responses=problems(404), summary="Get a run with its steps and outputs")
def get_run(run_id: str, caller: Reader, session: ReadSession) -> RunPublic:
    run = runs_repo.run_row(session, run_id, workspace_id=caller.workspace_id)
    if run is None:
        raise not_found("run", run_id)
    return run_detail(session, run)


@router.post("/runs/{run_id}/cancel", name="cancel_run", response_model=RunPublic,
             responses=problems(404),
             summary="Cancel a run: it stops between steps, its approvals are cancelled")
def cancel_run(run_id: str, caller: Runner, session: WriteSession,
               body: RunCancel | None = None) -> RunPublic:
    run = runs.cancel_run(session, workspace_id=caller.workspace_id, run_id=run_id,
                          actor=caller, reason=body.reason if body else None)
    return run_detail(session, run)
