"""Seed 002's shapes (/v1): request bodies as its clients send them (properties we do not
read are ignored, as that product did), and `{"success": true, "data", "meta"}` answers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from app.api.schemas.common import JsonObject, Timestamp


class Ok(BaseModel):
    """Every successful answer: the data, and a page's meta when it is a list."""

    success: Literal[True] = True
    data: Any
    meta: JsonObject = Field(default_factory=dict)


def ok(data: Any, **meta: Any) -> Ok:
    return Ok(data=data, meta={k: v for k, v in meta.items() if v is not None})


# ---------------------------------------------------------------- requests


class WorkflowCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    nodes: list[JsonObject] = Field(default_factory=list, max_length=500)
    edges: list[JsonObject] = Field(default_factory=list, max_length=2000)


class WorkflowUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    status: Literal["draft", "published"] | None = None
    nodes: list[JsonObject] | None = Field(None, max_length=500)
    edges: list[JsonObject] | None = Field(None, max_length=2000)


class Execute(BaseModel):
    input: JsonObject = Field(default_factory=dict)


class FormField(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field("text", max_length=40)
    required: bool = False
    label: str | None = Field(None, max_length=200)
    options: list[str] | None = Field(None, max_length=200)


class FormCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    fields: list[FormField] = Field(default_factory=list, max_length=100)
    workflow_id: str | None = Field(None, max_length=40)


class Submit(BaseModel):
    data: JsonObject


class CredentialCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(max_length=20)
    value: str = Field(min_length=1, max_length=10_000)


class WebhookCreate(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] | None = Field(None, max_length=50)
    secret: str | None = Field(None, max_length=200)


# ---------------------------------------------------------------- answers


class WorkflowItem(BaseModel):
    id: str
    name: str
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class WorkflowDetail(WorkflowItem):
    description: str
    nodes: list[JsonObject]
    edges: list[JsonObject]
    variables: JsonObject = Field(default_factory=dict)


class Started(BaseModel):
    execution_id: str
    status: str
    started_at: Timestamp


class Execution(BaseModel):
    id: str
    workflow_id: str
    status: str
    started_at: Timestamp
    completed_at: Timestamp | None
    output: JsonObject


class LogEntry(BaseModel):
    step: str
    kind: str
    status: str
    attempt: int
    started_at: Timestamp | None
    finished_at: Timestamp | None
    error: str | None
    output: Any = None


class ExecutionDetail(Execution):
    logs: list[LogEntry]


class FormItem(BaseModel):
    id: str
    name: str
    description: str
    fields: list[JsonObject]
    workflow_id: str | None
    is_published: bool
    created_at: Timestamp


class SubmissionItem(BaseModel):
    id: str
    form_id: str
    data: JsonObject
    execution_id: str | None
    created_at: Timestamp


class CredentialItem(BaseModel):
    id: str
    name: str
    type: str
    created_at: Timestamp


class IntegrationItem(BaseModel):
    id: str
    name: str
    type: str
    connected: bool
    created_at: Timestamp


class IntegrationTest(BaseModel):
    id: str
    ok: bool
    message: str


class WebhookItem(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: Timestamp


class WebhookCreated(WebhookItem):
    secret: str = Field(description="Shown only now; signs each delivery (Standard Webhooks).")
