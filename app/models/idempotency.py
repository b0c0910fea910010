"""Stored responses of POSTs made with an Idempotency-Key (kept 24 hours)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "key"),)

    id: str = id_field("idem")
    workspace_id: str = workspace_fk()
    key: str = Field(max_length=255)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    # None while the first request is still in flight.
    response_status: int | None = None
    response_body: str | None = None
    response_headers: dict[str, Any] = json_field(dict)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
