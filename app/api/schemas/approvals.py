"""Approvals: a person's (or an API key's) decision on a waiting approval step."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.api.schemas.common import Page, RequestBody, Timestamp


class ApprovalDecision(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "approved", "comment": "Welcome aboard"}]})

    decision: Literal["approved", "rejected"]
    comment: str | None = Field(None, max_length=2000)


class ApprovalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["apr_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    run_id: str
    step_id: str = Field(validation_alias=AliasChoices("step_id", "step_run_id"))
    step_key: str
    workflow_id: str
    workflow_title: str
    assignees: list[str] = Field(examples=[["role:approver"]])
    instructions: str
    status: str = Field(description="pending, approved, rejected or cancelled",
                        examples=["pending"])
    comment: str | None
    decided_by: str | None
    decided_at: Timestamp | None
    due_at: Timestamp | None
    created_at: Timestamp


class ApprovalPage(Page[ApprovalPublic]):
    pass
