"""Webhook subscriptions, their secrets (shown once), deliveries and attempts; and seed 000's
/api/public/webhooks shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.schemas.common import Page, RequestBody, Timestamp
from app.models import EVENT_TYPES

EVENTS_DOC = (f"Event types to receive: any of {', '.join(EVENT_TYPES)}, or `*` for all "
              "(the default). Unknown types are refused (422).")
URL_DOC = ("An http(s) URL on the public internet: private, loopback, link-local, CGNAT, ULA "
           "and multicast targets are refused, here and again at connect time.")
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PayloadFormatName = Literal["standard", "compat"]


class WebhookCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://crm.example.com/hooks/flowdesk",
        "events": ["run.completed", "run.flagged"], "description": "CRM sync"}]})

    url: str = Field(min_length=1, max_length=2000, description=URL_DOC)
    events: list[str] = Field(default_factory=lambda: ["*"], max_length=50,
                              description=EVENTS_DOC)
    description: str = Field("", max_length=500)
    secret: str | None = Field(None, min_length=16, max_length=200, description=(
        "Bring your own signing secret (optional): `whsec_<base64>`, or any string whose "
        "UTF-8 bytes become the HMAC key. Omit it and one is generated."))
    payload_format: PayloadFormatName = Field("standard", description=(
        "`standard`, or `compat` to add the camelCase keys (`runId`, `workflowId`, `orgId`) "
        "that clients of /api/public read."))


class WebhookUpdate(RequestBody):
    """Only the properties sent change; send `If-Match` with the version you read."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": True}]})

    url: str | None = Field(None, min_length=1, max_length=2000, description=URL_DOC)
    events: list[str] | None = Field(None, max_length=50, description=EVENTS_DOC)
    active: bool | None = Field(None, description=(
        "false stops deliveries (waiting ones are given up, and stay replayable); true turns "
        "a disabled subscription back on and clears its failure count."))
    description: str | None = Field(None, max_length=500)

    @field_validator("url", "events", "active", "description")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class WebhookPublic(BaseModel):
    """A subscription; its secret is never shown again after creation or rotation."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["wh_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    url: str
    description: str
    events: list[str] = Field(examples=[["run.completed", "run.flagged"]])
    active: bool
    disabled_reason: str | None = Field(description=(
        "Why it is inactive: a 410 from the receiver, a run of failed attempts, or a person."))
    consecutive_failures: int = Field(description="Failed attempts since the last success.")
    payload_format: str
    previous_secret_expires_at: Timestamp | None = Field(description=(
        "After a rotation, the old secret also signs until this time."))
    version: int = Field(description="Also the ETag; send it as If-Match when you PATCH.")
    created_at: Timestamp
    updated_at: Timestamp


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="The signing secret, shown only now: store it.",
                        examples=[SECRET_EXAMPLE])


class WebhookSecret(BaseModel):
    id: str
    secret: str = Field(description="The new signing secret, shown only now.",
                        examples=[SECRET_EXAMPLE])
    previous_secret_expires_at: Timestamp | None = Field(description=(
        "The old secret also signs until then, so receivers can switch without a gap."))
    version: int


class WebhookPage(Page[WebhookPublic]):
    pass


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: Timestamp
    status_code: int | None = Field(description="null when no answer came (timeout, refused).")
    latency_ms: float | None
    error: str | None
    response_excerpt: str | None = Field(description="The start of the receiver's answer.")


class DeliveryPublic(BaseModel):
    """One event to one subscription: retried on the ladder until a 2xx, a 410 or the end."""

    id: str = Field(examples=["dlv_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    webhook_id: str
    event_id: str = Field(description="Also the `webhook-id` header of every attempt.")
    event_type: str
    status: str = Field(description="pending, delivering, succeeded or failed")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: float | None
    next_attempt_at: Timestamp | None = Field(description="When a pending delivery is retried.")
    replay_of: str | None = Field(description="The delivery this one replays.")
    created_at: Timestamp
    delivered_at: Timestamp | None
    attempt_log: list[AttemptPublic] = Field(description="Every attempt, oldest first.")


class DeliveryPage(Page[DeliveryPublic]):
    pass


# ---------------------------------------------------------------- seed 000 (/api/public)


class PublicWebhookCreate(BaseModel):
    # Clients may send more than we read; unknown properties are ignored, as theirs were.
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://example.com/hooks/atomic", "orgId": "org_xxxxxxxx",
        "events": ["run.completed", "run.flagged"]}]})

    url: str = Field(min_length=1, max_length=2000, description=URL_DOC)
    events: list[str] = Field(default_factory=lambda: ["*"], max_length=50,
                              description=EVENTS_DOC)
    orgId: str | None = Field(None, max_length=200, description=(
        "Your workspace id; another workspace's id is refused, other values are ignored."))
    description: str = Field("", max_length=500)
    secret: str | None = Field(None, min_length=16, max_length=200)


class PublicWebhook(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    createdAt: str


class PublicWebhookCreated(PublicWebhook):
    secret: str = Field(description="The signing secret, shown only now.",
                        examples=[SECRET_EXAMPLE])


class PublicWebhookList(BaseModel):
    webhooks: list[PublicWebhook]
    total: int


class PublicWebhookDeleted(BaseModel):
    id: str
    deleted: bool = True
