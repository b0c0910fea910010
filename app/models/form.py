"""Forms (fields, a public slug, the workflow they start) and their submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class Form(SQLModel, table=True):
    id: str = id_field("frm")
    workspace_id: str = workspace_fk()
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    fields: list[dict[str, Any]] = json_field(list)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True}, index=True)
    workflow_id: str | None = Field(default=None, foreign_key="workflow.id", max_length=40)
    # form field name → workflow input field name, where they differ.
    field_map: dict[str, str] = json_field(dict)
    is_published: bool = False
    success_message: str = Field(
        default="Thank you! Your response has been recorded.", max_length=2000
    )
    version: int = 1
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class FormSubmission(SQLModel, table=True):
    __tablename__ = "form_submission"

    id: str = id_field("sub")
    workspace_id: str = workspace_fk()
    form_id: str = Field(foreign_key="form.id", index=True, max_length=40)
    data: dict[str, Any] = json_field(dict)
    run_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, index=True)
