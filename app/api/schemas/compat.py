"""The seed products' own shapes: seed 000 (camelCase, /api/public) and seed 004
(/api/workflow, numeric ids, epoch-millisecond times, `result_json` strings)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.common import JsonObject

# ---------------------------------------------------------------- seed 000


class PublicTriggerRequest(BaseModel):
    # Clients may send more than we read; unknown properties are ignored, as theirs were.
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "workflowId": "wf_employee_onboarding", "orgId": "org_xxxxxxxx",
        "input": {"Full Name": "Jane Doe", "Email": "jane@acme.com",
                  "Position": "Software Engineer"}}]})

    workflowId: str = Field(min_length=1, max_length=200, description=(
        "A workflow id, or `wf_` + its title in snake case (`wf_employee_onboarding` for "
        "'Employee onboarding')."))
    orgId: str | None = Field(None, max_length=200, description=(
        "Your workspace id (GET /api/v1/workspaces). Another workspace's id is refused; a "
        "value that is not one of our workspace ids is ignored (the key decides)."))
    input: JsonObject = Field(default_factory=dict)


class PublicTriggerResponse(BaseModel):
    runId: str = Field(examples=["run_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    status: str = Field(examples=["IN_PROGRESS"])
    currentStep: int = Field(description="Steps completed so far.", examples=[0])
    workflowTitle: str = Field(examples=["Employee onboarding"])
    createdAt: str = Field(examples=["2026-04-26T10:00:00.000Z"])


class PublicRun(BaseModel):
    runId: str
    status: str = Field(description="IN_PROGRESS, BLOCKED, FLAGGED, COMPLETED or CANCELLED")
    currentStepIndex: int = Field(description="Steps completed so far.")
    totalSteps: int = Field(description="Steps in the workflow while the run is active; the "
                                        "steps it went through once it has finished.")
    completedAt: str | None
    outputs: JsonObject = Field(description="Each finished step's output, by step key.")


class PublicWorkflow(BaseModel):
    id: str
    title: str
    description: str
    steps: int
    isPublished: bool


class PublicWorkflowList(BaseModel):
    workflows: list[PublicWorkflow]
    total: int


# ---------------------------------------------------------------- seed 004


class FlowCreateRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={
        "required": ["name", "flow"],
        "examples": [{"name": "my-workflow", "flow": {
            "start": {"name": "greet", "tool": "get_greeting", "args": {}, "next": "count"},
            "count": {"name": "count", "tool": "get_counter", "args": {}, "done": True}},
            "input": {}}]})

    # Optional here so that a missing one is the seed's 400, not a generic 422.
    name: str | None = Field(None, max_length=200)
    flow: JsonObject | None = Field(None, description=(
        "Named steps: `start` first; each with `name`, `tool` (null: wait for POST "
        "/api/workflow/{step_id}/ready), `args` ({{input.key}} placeholders), `next`, "
        "`done`, `branch` ([{if, then}])."))
    input: JsonObject = Field(default_factory=dict)


class FlowStarted(BaseModel):
    id: int = Field(examples=[1773850841512])
    status: Literal["started"] = "started"


class FlowRun(BaseModel):
    id: int = Field(examples=[1773850841512])
    name: str
    status: str = Field(description="running, completed, failed or cancelled")
    created_by: str | None
    created_at: int = Field(description="Epoch milliseconds.")
    updated_at: int
    completed_at: int | None
    cancelled_at: int | None


class FlowStep(BaseModel):
    id: int = Field(examples=[1773850841600])
    name: str
    tool: str | None = Field(description="null for a gate that waits for …/ready.")
    kind: str
    status: str = Field(description="pending, running, done, failed, skipped or cancelled")
    attempt: int
    result_json: str | None = Field(description="The JSON-encoded output of the step.")
    error: str | None
    started_at: int | None
    completed_at: int | None


class FlowRunDetail(FlowRun):
    steps: list[FlowStep]


class FlowCancelled(BaseModel):
    cancelled: bool = True


class FlowQueued(BaseModel):
    queued: bool = True


def seed_result_json(result: Any) -> str | None:
    return None if result is None else json.dumps(result, separators=(",", ":"), default=str)
