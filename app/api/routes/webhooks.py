"""/api/v1/webhooks: subscriptions (the secret shown once), secret rotation, the delivery log,
replay and test pings. Every operation needs the webhooks:write scope, reads included: the
log shows what a workspace sends where."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status
from sqlmodel import Session

from app.api.deps import IfMatch, ReadSession, WriteSession, etag, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.openapi import problems
from app.api.pagination import OffsetPaging, PageRequest, Paging, page_of
from app.api.routing import api_router
from app.api.schemas.webhooks import (
    AttemptPublic,
    DeliveryPage,
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookPublic,
    WebhookSecret,
    WebhookUpdate,
)
from app.models import Actor
from app.repo import webhooks as webhooks_repo
from app.services import webhooks
from app.services.webhooks import DeliveryLog

router = api_router(prefix="/api/v1/webhooks", tags=["webhooks"])

Manager = Annotated[Actor, Depends(require("webhooks:write"))]
ATTRIBUTES = webhooks_repo.WEBHOOK_ATTRIBUTES
WebhookConditions = Annotated[Conditions, Depends(filters_param(ATTRIBUTES))]
StatusFilter = Annotated[str | None, Query(pattern="^(pending|delivering|succeeded|failed)$",
                                           description="Only deliveries in this status.")]
EventFilter = Annotated[str | None, Query(max_length=60, description="Only this event type.",
                                          examples=["run.completed"])]
LINKS = {
    "GetWebhook": {"operationId": "get_webhook",
                   "parameters": {"webhook_id": "$response.body#/id"}},
    "ListWebhookDeliveries": {"operationId": "list_webhook_deliveries",
                              "parameters": {"webhook_id": "$response.body#/id"}},
}


def delivery_public(entry: DeliveryLog) -> DeliveryPublic:
    row = entry.delivery
    return DeliveryPublic(
        id=row.id, webhook_id=row.webhook_id, event_id=row.event_id, event_type=row.event_type,
        status=row.status, attempts=row.attempts, last_status_code=row.last_status_code,
        last_error=row.last_error, last_latency_ms=row.last_latency_ms,
        next_attempt_at=row.next_attempt_at, replay_of=row.replay_of or None,
        created_at=row.created_at, delivered_at=row.delivered_at,
        attempt_log=[AttemptPublic.model_validate(a) for a in entry.attempts])


@router.get("", name="list_webhooks", response_model=WebhookPage,
            summary="List webhook subscriptions (never their secrets)")
def list_webhooks(caller: Manager, session: ReadSession, paging: OffsetPaging,
                  conditions: WebhookConditions) -> dict[str, object]:
    return _webhooks_page(caller, session, paging, conditions)


# The repository directly (a read), as the service's list takes no offset or conditions.
def _webhooks_page(caller: Actor, session: Session, paging: PageRequest,
                   conditions: Conditions) -> dict[str, object]:
    rows = webhooks_repo.list_webhooks(session, workspace_id=caller.workspace_id,
                                       limit=paging.fetch, before=paging.before,
                                       offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, WebhookPublic.model_validate)


add_search(router, "/search", name="search_webhooks", response_model=WebhookPage,
           summary="List subscriptions matching structured filters", attributes=ATTRIBUTES,
           caller=require("webhooks:write"), page=_webhooks_page)


@router.post("", name="create_webhook", status_code=status.HTTP_201_CREATED,
             response_model=WebhookCreated,
             summary="Subscribe a URL to events; the signing secret is shown only now",
             responses={201: {"links": LINKS}},
             openapi_extra={"x-response-headers": {"201": ["Location", "ETag"]}})
def create_webhook(body: WebhookCreate, caller: Manager, session: WriteSession,
                   response: Response) -> WebhookCreated:
    created = webhooks.create_webhook(
        session, workspace_id=caller.workspace_id, actor=caller, url=body.url,
        events=body.events, description=body.description, secret=body.secret,
        payload_format=body.payload_format)
    response.headers["Location"] = f"{router.prefix}/{created.webhook.id}"
    response.headers["ETag"] = etag(created.webhook.version)
    return WebhookCreated(**WebhookPublic.model_validate(created.webhook).model_dump(),
                          secret=created.secret)


@router.get("/{webhook_id}", name="get_webhook", response_model=WebhookPublic,
            responses=problems(404), summary="Get a subscription",
            openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def get_webhook(webhook_id: str, caller: Manager, session: ReadSession,
                response: Response) -> WebhookPublic:
    webhook = webhooks.get_webhook(session, workspace_id=caller.workspace_id,
                                   webhook_id=webhook_id)
    response.headers["ETag"] = etag(webhook.version)
    return WebhookPublic.model_validate(webhook)


@router.patch("/{webhook_id}", name="update_webhook", response_model=WebhookPublic,
              responses=problems(404, 409),
              summary="Change the URL, events, description, or turn it off and on",
              openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def update_webhook(webhook_id: str, body: WebhookUpdate, caller: Manager,
                   session: WriteSession, expected: IfMatch,
                   response: Response) -> WebhookPublic:
    webhook = webhooks.update_webhook(
        session, workspace_id=caller.workspace_id, webhook_id=webhook_id, actor=caller,
        expected_version=expected, url=body.url, events=body.events, active=body.active,
        description=body.description)
    response.headers["ETag"] = etag(webhook.version)
    return WebhookPublic.model_validate(webhook)


@router.delete("/{webhook_id}", name="delete_webhook", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=problems(404),
               summary="Delete a subscription with its delivery log")
def delete_webhook(webhook_id: str, caller: Manager, session: WriteSession) -> Response:
    webhooks.delete_webhook(session, workspace_id=caller.workspace_id, webhook_id=webhook_id,
                            actor=caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{webhook_id}/rotate-secret", name="rotate_webhook_secret",
             response_model=WebhookSecret, responses=problems(404),
             summary="Replace the signing secret; the old one also signs for an overlap")
def rotate_secret(webhook_id: str, caller: Manager, session: WriteSession) -> WebhookSecret:
    rotated = webhooks.rotate_secret(session, workspace_id=caller.workspace_id,
                                     webhook_id=webhook_id, actor=caller)
    hook = rotated.webhook
    return WebhookSecret(id=hook.id, secret=rotated.secret, version=hook.version,
                         previous_secret_expires_at=hook.previous_secret_expires_at)


@router.get("/{webhook_id}/deliveries", name="list_webhook_deliveries",
            response_model=DeliveryPage, responses=problems(404),
            summary="The delivery log, newest first, with every attempt")
def list_deliveries(webhook_id: str, caller: Manager, session: ReadSession, paging: Paging,
                    status: StatusFilter = None,
                    event_type: EventFilter = None) -> dict[str, object]:
    rows = webhooks.list_deliveries(session, workspace_id=caller.workspace_id,
                                    webhook_id=webhook_id, limit=paging.fetch,
                                    before=paging.before, status=status, event_type=event_type)
    return page_of(rows, paging, delivery_public,
                   key=lambda entry: (entry.delivery.created_at, entry.delivery.id))


@router.get("/{webhook_id}/deliveries/{delivery_id}", name="get_webhook_delivery",
            response_model=DeliveryPublic, responses=problems(404),
            summary="One delivery with every attempt")
def get_delivery(webhook_id: str, delivery_id: str, caller: Manager,
                 session: ReadSession) -> DeliveryPublic:
    return delivery_public(webhooks.get_delivery(
        session, workspace_id=caller.workspace_id, webhook_id=webhook_id,
        delivery_id=delivery_id))


@router.post("/{webhook_id}/deliveries/{delivery_id}/replay", name="replay_webhook_delivery",
             status_code=status.HTTP_202_ACCEPTED, response_model=DeliveryPublic,
             responses=problems(404, 409),
             summary="Send the event again (same webhook-id) as a new delivery")
def replay_delivery(webhook_id: str, delivery_id: str, caller: Manager,
                    session: WriteSession) -> DeliveryPublic:
    replay = webhooks.replay_delivery(session, workspace_id=caller.workspace_id,
                                      webhook_id=webhook_id, delivery_id=delivery_id,
                                      actor=caller)
    return delivery_public(DeliveryLog(delivery=replay, attempts=[]))


@router.post("/{webhook_id}/test", name="test_webhook", status_code=status.HTTP_202_ACCEPTED,
             response_model=DeliveryPublic, responses=problems(404, 409),
             summary="Send a webhook.test event to this subscription only")
def send_test(webhook_id: str, caller: Manager, session: WriteSession) -> DeliveryPublic:
    delivery = webhooks.send_test_event(session, workspace_id=caller.workspace_id,
                                        webhook_id=webhook_id, actor=caller)
    return delivery_public(DeliveryLog(delivery=delivery, attempts=[]))
