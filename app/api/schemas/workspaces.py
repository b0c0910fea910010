"""Workspaces: the API key's own workspace (its id is seed 000's `orgId`)."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.api.schemas.common import Page, Timestamp


class WorkspacePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["ws_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    name: str = Field(examples=["Acme"])
    max_concurrent_runs: int | None = Field(
        description="This workspace's cap on runs in progress (null: the server default).")
    rate_limit_read_per_min: int | None
    rate_limit_write_per_min: int | None
    default_error_workflow_id: str | None = Field(
        None, validation_alias=AliasChoices("default_error_workflow_id", "error_workflow_id"),
        description="The error workflow of every workflow that names none of its own.")
    created_at: Timestamp


class WorkspaceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    default_error_workflow_id: str | None = Field(
        None, max_length=40, description="A workflow of this workspace started when a run of "
        "any workflow without its own error workflow is FLAGGED; null clears it.")


class WorkspacePage(Page[WorkspacePublic]):
    pass
