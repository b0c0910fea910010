"""Audit events: who (a user, an API key, the system) did what to which resource."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import JsonObject, Page, Timestamp
from app.models import AuditLog


class AuditActor(BaseModel):
    type: str = Field(description="user, api_key, system or public", examples=["api_key"])
    id: str | None
    label: str = Field(examples=["fdk_AbCd1234"])


class AuditEventPublic(BaseModel):
    id: str = Field(examples=["aud_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    action: str = Field(examples=["run.triggered"])
    resource_type: str
    resource_id: str | None
    actor: AuditActor
    details: JsonObject
    request_id: str | None
    created_at: Timestamp

    @classmethod
    def of(cls, row: AuditLog) -> AuditEventPublic:
        return cls(id=row.id, action=row.action, resource_type=row.resource_type,
                   resource_id=row.resource_id,
                   actor=AuditActor(type=row.actor_type, id=row.actor_id, label=row.actor_label),
                   details=row.details or {}, request_id=row.request_id,
                   created_at=row.created_at)


class AuditEventPage(Page[AuditEventPublic]):
    pass
