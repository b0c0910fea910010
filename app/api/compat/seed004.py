"""Seed 004's flow API under /api/workflow: create-and-start a flow, list and get runs (with
steps and `result_json`), cancel, release a gate with `…/{step_id}/ready`. Ids are numbers
(see docs/api.md); errors also carry the seed's `{"error": "..."}` member."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Query

from app.api.deps import WriteSession, require
from app.api.openapi import problems
from app.api.routing import api_router
from app.api.schemas.compat import (
    FlowCancelled,
    FlowCreateRequest,
    FlowQueued,
    FlowRun,
    FlowRunDetail,
    FlowStarted,
    FlowStep,
    seed_result_json,
)
from app.engine.definition import SEED_BRANCH_SUFFIX
from app.models import Actor, Run, RunStatus, StepRun, StepStatus
from app.services import compat, runs

router = api_router(prefix="/api/workflow", tags=["compat: seed 004"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]
Creator = Annotated[Actor, Depends(require("workflows:write", "runs:write"))]
Number = Annotated[int, Path(ge=1, le=2**63 - 1)]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

RUN_STATUS = {RunStatus.IN_PROGRESS: "running", RunStatus.BLOCKED: "running",
              RunStatus.FLAGGED: "failed", RunStatus.COMPLETED: "completed",
              RunStatus.CANCELLED: "cancelled"}
# A gate waiting for …/ready is "running" in seed 004's words.
STEP_STATUS = {StepStatus.WAITING: "running"}


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp() * 1000)


def _flow_run(run: Run, number: int) -> dict[str, object]:
    return {"id": number, "name": run.workflow_title, "status": RUN_STATUS.get(run.status,
                                                                              run.status),
            "created_by": run.created_by, "created_at": _ms(run.created_at),
            "updated_at": _ms(run.updated_at),
            "completed_at": _ms(run.completed_at) if run.status != RunStatus.CANCELLED else None,
            "cancelled_at": _ms(run.completed_at) if run.status == RunStatus.CANCELLED else None}


def _flow_step(step: StepRun, number: int, spec: object | None) -> FlowStep:
    name = getattr(spec, "title", None) or step.step_key
    return FlowStep(id=number, name=name, tool=getattr(spec, "tool", None), kind=step.kind,
                    status=STEP_STATUS.get(step.status, step.status), attempt=step.attempt,
                    result_json=seed_result_json(step.result), error=step.error,
                    started_at=_ms(step.started_at), completed_at=_ms(step.finished_at))


@router.post("", name="flow_create_and_start", response_model=FlowStarted,
             summary="Create a workflow from a flow and start it", responses={200: {"links": {
                 "GetFlow": {"operationId": "flow_get", "parameters": {"id": "$response.body#/id"}},
                 "CancelFlow": {"operationId": "flow_cancel",
                                "parameters": {"id": "$response.body#/id"}}}}},
             description="`name` and `flow` are required (400 when missing); an invalid flow "
                         "is 422 (`Flow must have a 'start' key`, unknown tools, …).")
def create_and_start(body: FlowCreateRequest, caller: Creator,
                     session: WriteSession) -> FlowStarted:
    _run, number = compat.create_and_start(session, workspace_id=caller.workspace_id,
                                           actor=caller, name=body.name, flow=body.flow,
                                           input=body.input)
    return FlowStarted(id=number)


@router.get("", name="flow_list", response_model=list[FlowRun],
            summary="List workflows (runs), newest first")
def list_flows(caller: Reader, session: WriteSession,
               limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
               ) -> list[FlowRun]:
    numbered = compat.numbered_runs(session, workspace_id=caller.workspace_id, limit=limit)
    return [FlowRun.model_validate(_flow_run(run, number)) for run, number in numbered]


@router.get("/{id}", name="flow_get", response_model=FlowRunDetail,
            responses={**problems(404), 200: {"links": {"ReleaseFirstStep": {
                "operationId": "flow_step_ready",
                "parameters": {"step_id": "$response.body#/steps/0/id"}}}}},
            summary="Get a workflow (run) with its steps")
def get_flow(id: Number, caller: Reader, session: WriteSession) -> FlowRunDetail:
    found = compat.numbered_run(session, workspace_id=caller.workspace_id, number=id)
    specs = found.definition.steps if found.definition else {}
    steps = [_flow_step(step, number, specs.get(step.step_key))
             for step, number in found.steps
             if not (step.kind == "branch" and step.step_key.endswith(SEED_BRANCH_SUFFIX))]
    return FlowRunDetail.model_validate({**_flow_run(found.run, found.number), "steps": steps})


@router.delete("/{id}", name="flow_cancel", response_model=FlowCancelled,
               responses=problems(404, 409), summary="Cancel a workflow (run)")
def cancel_flow(id: Number, caller: Runner, session: WriteSession) -> FlowCancelled:
    run_id = compat.ref_of_number(session, workspace_id=caller.workspace_id, number=id,
                                  kind=compat.RUN)
    runs.cancel_run(session, workspace_id=caller.workspace_id, run_id=run_id,
                    actor=caller)
    return FlowCancelled()


@router.post("/{step_id}/ready", name="flow_step_ready", response_model=FlowQueued,
             responses=problems(404, 409), summary="Release a gate step (tool: null)")
def step_ready(step_id: Number, caller: Runner, session: WriteSession) -> FlowQueued:
    ref = compat.ref_of_number(session, workspace_id=caller.workspace_id, number=step_id,
                               kind=compat.STEP)
    runs.signal_step(session, workspace_id=caller.workspace_id, step_id=ref,
                     actor=caller)
    return FlowQueued()
