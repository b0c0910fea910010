"""/api/v1/workspaces: the key's own workspace (seed 001's workspace id, seed 000's orgId)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.api.deps import ReadSession, require
from app.api.openapi import problems
from app.api.pagination import Paging
from app.api.routing import api_router
from app.api.schemas.workspaces import WorkspacePage, WorkspacePublic
from app.errors import not_found
from app.models import Actor
from app.repo import accounts

router = api_router(prefix="/api/v1/workspaces", tags=["workspaces"])

AnyKey = Annotated[Actor, Depends(require())]


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
