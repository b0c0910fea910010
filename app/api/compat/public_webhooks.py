"""Seed 000's /api/public/webhooks (register, list, remove) over the same subscriptions.

Subscriptions made here use the `compat` payload format: the standard body plus `runId`,
`workflowId` and `orgId`, the keys that product's receivers read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, status

from app.api.deps import ReadSession, WriteSession, require
from app.api.openapi import problems
from app.api.routing import api_router
from app.api.schemas.webhooks import (
    PublicWebhook,
    PublicWebhookCreate,
    PublicWebhookCreated,
    PublicWebhookDeleted,
    PublicWebhookList,
)
from app.clock import iso
from app.models import Actor, Webhook
from app.models.event import PayloadFormat
from app.services import compat, webhooks

router = api_router(prefix="/api/public/webhooks", tags=["compat: seed 000"])

Manager = Annotated[Actor, Depends(require("webhooks:write"))]
# That product listed every webhook at once; a workspace has far fewer than this.
LIST_CAP = 1000


def _public(webhook: Webhook) -> PublicWebhook:
    return PublicWebhook(id=webhook.id, url=webhook.url, events=list(webhook.events),
                         active=webhook.active, createdAt=iso(webhook.created_at) or "")


@router.post("", name="public_create_webhook", status_code=status.HTTP_201_CREATED,
             response_model=PublicWebhookCreated, responses=problems(403),
             summary="Register a webhook endpoint (the secret is shown only now)")
def register(body: PublicWebhookCreate, caller: Manager,
             session: WriteSession) -> PublicWebhookCreated:
    compat.check_org(workspace_id=caller.workspace_id, org_id=body.orgId)
    created = webhooks.create_webhook(
        session, workspace_id=caller.workspace_id, actor=caller, url=body.url,
        events=body.events, description=body.description, secret=body.secret,
        payload_format=PayloadFormat.COMPAT)
    return PublicWebhookCreated(**_public(created.webhook).model_dump(), secret=created.secret)


@router.get("", name="public_list_webhooks", response_model=PublicWebhookList,
            summary="List registered webhooks")
def list_registered(caller: Manager, session: ReadSession,
                    orgId: Annotated[str | None, Query(max_length=200)] = None
                    ) -> PublicWebhookList:
    compat.check_org(workspace_id=caller.workspace_id, org_id=orgId)
    rows = webhooks.list_webhooks(session, workspace_id=caller.workspace_id, limit=LIST_CAP)
    return PublicWebhookList(webhooks=[_public(row) for row in rows], total=len(rows))


@router.delete("/{id}", name="public_delete_webhook", response_model=PublicWebhookDeleted,
               responses=problems(404), summary="Remove a webhook")
def remove(id: str, caller: Manager, session: WriteSession) -> PublicWebhookDeleted:
    webhooks.delete_webhook(session, workspace_id=caller.workspace_id, webhook_id=id,
                            actor=caller)
    return PublicWebhookDeleted(id=id)
