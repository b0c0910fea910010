"""Forms (fields, a public slug, the workflow they start) and their submissions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import id_field, json_field, workspace_fk


class Form(SQLModel, table=True):
    id: str = id_field("frm")
    workspace_id: str = workspace_fk()
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    fields: list[dict[str, Any]] = json_field(list)
    # [{"title", "description"}]: the pages fields are on (a field's `page`, 1 = the first);
    # empty: one page
    pages: list[dict[str, Any]] = json_field(list)
    slug: str = Field(max_length=80, sa_column_kwargs={"unique": True}, index=True)
    workflow_id: str | None = Field(default=None, foreign_key="workflow.id", max_length=40)
    # form field name → workflow input field name, where they differ.
    field_map: dict[str, str] = json_field(dict)
    is_published: bool = False
    success_message: str = Field(
        default="Thank you! Your response has been recorded.", max_length=2000
    )
    version: int = 1  # counts saves of the draft (the ETag), not published versions
    published_version: int | None = None  # the FormVersion.number the public page serves
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class FormVersion(SQLModel, table=True):
    """What a form looked like when it was published: immutable, so every submission can
    say which fields, pages and mapping it was made on."""

    __tablename__ = "form_version"
    __table_args__ = (UniqueConstraint("form_id", "number"),)

    id: str = id_field("frv")
    workspace_id: str = workspace_fk()
    form_id: str = Field(foreign_key="form.id", index=True, max_length=40)
    number: int
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    fields: list[dict[str, Any]] = json_field(list)
    pages: list[dict[str, Any]] = json_field(list)
    workflow_id: str | None = Field(default=None, max_length=40)
    field_map: dict[str, str] = json_field(dict)
    success_message: str = Field(default="", max_length=2000)
    created_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class FormSubmission(SQLModel, table=True):
    __tablename__ = "form_submission"

    id: str = id_field("sub")
    workspace_id: str = workspace_fk()
    form_id: str = Field(foreign_key="form.id", index=True, max_length=40)
    data: dict[str, Any] = json_field(dict)
    form_version: int | None = None  # the published version it was made on (None: the draft)
    run_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, index=True)
