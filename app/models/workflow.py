"""Workflows (a draft with an optimistic version) and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class WorkflowStatus:
    DRAFT = "draft"
    PUBLISHED = "published"
    ALL = (DRAFT, PUBLISHED)


class Workflow(SQLModel, table=True):
    id: str = id_field("wf")
    workspace_id: str = workspace_fk()
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    status: str = Field(default=WorkflowStatus.DRAFT, max_length=20)
    # Optimistic concurrency: every save bumps it; a save naming an older one is refused.
    version: int = 1
    definition: dict[str, Any] = json_field(dict)
    published_number: int | None = None
    # Started when a run of this workflow is FLAGGED (else the workspace's default applies).
    error_workflow_id: str | None = Field(default=None, max_length=40)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class WorkflowVersion(SQLModel, table=True):
    __tablename__ = "workflow_version"
    __table_args__ = (sa.UniqueConstraint("workflow_id", "number"),)

    id: str = id_field("wfv")
    workspace_id: str = workspace_fk()
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=40)
    number: int
    title: str = Field(max_length=200)
    definition: dict[str, Any] = json_field(dict)
    published_by: str | None = Field(default=None, max_length=200)
    published_at: datetime = Field(default_factory=utcnow)
