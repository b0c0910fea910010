"""/api/v1/workspaces: the key's own workspace (seed 001's workspace id, seed 000's orgId),
and its default error workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.api.deps import ReadSession, WriteSession, require
from app.api.openapi import problems
from app.api.pagination import Paging
from app.api.routing import api_router
from app.api.schemas.workspaces import WorkspacePage, WorkspacePublic, WorkspaceUpdate
from app.errors import not_found
from app.models import Actor
from app.repo import accounts
from app.services import error_workflows

router = api_router(prefix="/api/v1/workspaces", tags=["workspaces"])

AnyKey = Annotated[Actor, Depends(require())]
Builder = Annotated[Actor, Depends(require("workflows:write"))]


@router.get("", name="list_workspaces", response_model=WorkspacePage,
            summary="List the workspaces this key can use (its own)")
def list_workspaces(caller: AnyKey, session: ReadSession, paging: Paging) -> WorkspacePage:
    workspace = accounts.get_workspace(session, caller.workspace_id)
    shown = [WorkspacePublic.model_validate(workspace)] if workspace and not paging.before \
        else []
    return WorkspacePage(data=shown, next_cursor=None, has_more=False)


@router.get("/{workspace_id}", name="get_workspace", response_model=WorkspacePublic,
            responses=problems(404), summary="Get the key's workspace")
def get_workspace(workspace_id: str, caller: AnyKey, session: ReadSession) -> WorkspacePublic:
    workspace = accounts.get_workspace(session, caller.workspace_id)
    if workspace is None or workspace_id != caller.workspace_id:
        raise not_found("workspace", workspace_id)
    return WorkspacePublic.model_validate(workspace)


@router.patch("/{workspace_id}", name="update_workspace", response_model=WorkspacePublic,
              responses=problems(404), summary="Change the workspace's default error workflow")
def update_workspace(workspace_id: str, body: WorkspaceUpdate, caller: Builder,
                     session: WriteSession) -> WorkspacePublic:
    if workspace_id != caller.workspace_id:
        raise not_found("workspace", workspace_id)
    if "default_error_workflow_id" not in body.model_fields_set:  # nothing sent: no change
        return get_workspace(workspace_id, caller, session)
    workspace = error_workflows.set_default(session, actor=caller,
                                            error_workflow_id=body.default_error_workflow_id)
    return WorkspacePublic.model_validate(workspace)
