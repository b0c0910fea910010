"""Seed 000's run-centric API under /api/public: trigger, poll a run, list published
workflows, in that product's camelCase shapes (its webhooks routes come with webhooks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.api.deps import ReadSession, WriteSession, require
from app.api.openapi import problems
from app.api.routing import api_router
from app.api.schemas.compat import (
    PublicRun,
    PublicTriggerRequest,
    PublicTriggerResponse,
    PublicWorkflow,
    PublicWorkflowList,
)
from app.clock import iso
from app.engine.progress import definition_of_version
from app.errors import not_found
from app.models import Actor, RunStatus
from app.repo import runs as runs_repo
from app.repo import workflows as workflows_repo
from app.services import compat

router = api_router(prefix="/api/public", tags=["compat: seed 000"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]
Lister = Annotated[Actor, Depends(require("workflows:read"))]


@router.post("/runs/trigger", name="public_trigger_run", response_model=PublicTriggerResponse,
             responses=problems(404), summary="Trigger a run of a published workflow")
def trigger(body: PublicTriggerRequest, caller: Runner,
            session: WriteSession) -> PublicTriggerResponse:
    run = compat.trigger_by_ref(session, workspace_id=caller.workspace_id,
                                workflow_ref=body.workflowId, org_id=body.orgId,
                                input=body.input, actor=caller)
    return PublicTriggerResponse(runId=run.id, status=run.status,
                                 currentStep=run.steps_completed,
                                 workflowTitle=run.workflow_title,
                                 createdAt=iso(run.created_at) or "")


@router.get("/runs/{runId}", name="public_get_run", response_model=PublicRun,
            responses=problems(404), summary="Fetch the current state of a run")
def get_run(runId: str, caller: Reader, session: ReadSession) -> PublicRun:
    run = runs_repo.get_run(session, runId, workspace_id=caller.workspace_id)
    if run is None:
        raise not_found("run", runId)
    if run.status in RunStatus.FINISHED:
        total = run.steps_completed
    else:
        total = len(definition_of_version(session, run.workflow_version_id).steps)
    return PublicRun(runId=run.id, status=run.status, currentStepIndex=run.steps_completed,
                     totalSteps=total, completedAt=iso(run.completed_at),
                     outputs=run.outputs or {})


@router.get("/workflows", name="public_list_workflows", response_model=PublicWorkflowList,
            summary="List published workflows")
def list_workflows(caller: Lister, session: ReadSession,
                   orgId: Annotated[str | None, Query(
                       max_length=200, description="Your workspace id; other values that are "
                       "not workspace ids are ignored.")] = None) -> PublicWorkflowList:
    compat.check_org(workspace_id=caller.workspace_id, org_id=orgId)
    shown = []
    for workflow in compat.published_workflows(session, workspace_id=caller.workspace_id):
        version = workflows_repo.get_version_by_number(session, workflow.id,
                                                       workflow.published_number or 0)
        steps = len(version.definition.get("steps", {})) if version else 0
        shown.append(PublicWorkflow(id=workflow.id, title=workflow.title,
                                    description=workflow.description, steps=steps,
                                    isPublished=True))
    return PublicWorkflowList(workflows=shown, total=len(shown))
