"""/api/v1/audit-events: the workspace's audit log, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from app.api.deps import ReadSession, require
from app.api.pagination import Created, Paging, page_of
from app.api.routing import api_router
from app.api.schemas.audit import AuditEventPage, AuditEventPublic
from app.models import Actor
from app.repo import audit

router = api_router(prefix="/api/v1/audit-events", tags=["audit"])

Auditor = Annotated[Actor, Depends(require("audit:read"))]


@router.get("", name="list_audit_events", response_model=AuditEventPage,
            summary="List audit events (every change, by whom)")
def list_audit_events(caller: Auditor, session: ReadSession, paging: Paging, created: Created,
                      action: Annotated[str | None, Query(
                          max_length=80, examples=["run.triggered"])] = None,
                      resource_id: Annotated[str | None, Query(max_length=200)] = None
                      ) -> dict[str, object]:
    rows = audit.list_entries(session, workspace_id=caller.workspace_id, limit=paging.fetch,
                              before=paging.before, action=action, resource_id=resource_id,
                              created_after=created.after, created_before=created.before)
    return page_of(rows, paging, AuditEventPublic.of)
