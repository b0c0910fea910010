"""Runs, their steps (the timeline) and the bodies that trigger, cancel and signal them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from sqlalchemy import Row

from app.api.schemas.common import JsonObject, Page, RequestBody, Timestamp
from app.models import Run, StepRun

MAX_VERSION = 2**31 - 1
INPUT_EXAMPLE = {"Full Name": "Jane Doe", "Email": "jane@acme.com", "Position": "Engineer"}


class WorkflowRunCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"input": INPUT_EXAMPLE}]})

    input: JsonObject = Field(default_factory=dict, description="Values for the workflow's "
                              "input fields (its start step, when that is an input step).")
    version: int | None = Field(None, ge=1, le=MAX_VERSION, description="A published version "
                                "number; omit it for the current one.")


class RunCreate(WorkflowRunCreate):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "workflow_id": "wf_01jd2y7k3m8q9r4s5t6v7w8x9y", "input": INPUT_EXAMPLE}]})

    workflow_id: str = Field(min_length=1, max_length=200,
                             examples=["wf_01jd2y7k3m8q9r4s5t6v7w8x9y"])


class RunCancel(RequestBody):
    reason: str | None = Field(None, max_length=500, examples=["Duplicate request"])


class StepSignal(RequestBody):
    payload: JsonObject = Field(default_factory=dict, description="Kept as the step's output "
                                "(under `payload`) for later steps to use.")


class StepPublic(BaseModel):
    id: str = Field(examples=["stp_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    run_id: str
    key: str = Field(description="The step's key in the definition.", examples=["manager"])
    kind: str = Field(examples=["approval"])
    status: str = Field(description="pending, running, waiting, done, failed, skipped or "
                                    "cancelled", examples=["done"])
    attempt: int
    max_attempts: int
    input: JsonObject
    result: Any = Field(None, description="The step's output (also in the run's outputs).")
    error: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    duration_ms: int | None
    next_attempt_at: Timestamp | None = Field(description="When a pending retry or a delay "
                                                          "is due.")

    @classmethod
    def of(cls, step: StepRun | Row[Any]) -> StepPublic:
        duration = None
        if step.started_at and step.finished_at:
            duration = int((step.finished_at - step.started_at).total_seconds() * 1000)
        return cls(id=step.id, run_id=step.run_id, key=step.step_key, kind=step.kind,
                   status=step.status, attempt=step.attempt, max_attempts=step.max_attempts,
                   input=step.input or {}, result=step.result, error=step.error,
                   created_at=step.created_at, started_at=step.started_at,
                   finished_at=step.finished_at, duration_ms=duration,
                   next_attempt_at=step.next_attempt_at)


class RunSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["run_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    workflow_id: str
    workflow_title: str
    workflow_version: int = Field(validation_alias=AliasChoices("workflow_version",
                                                                "version_number"))
    status: str = Field(description="IN_PROGRESS, BLOCKED, FLAGGED, COMPLETED or CANCELLED",
                        examples=["BLOCKED"])
    trigger: str = Field(description="api, form, schedule, ui, signal, subworkflow, error (an "
                                     "error workflow's run) or rerun")
    source_run_id: str | None = Field(None, description="The run this one re-runs, or the "
                                      "FLAGGED run an error workflow was started for.")
    current_step: str | None
    steps_completed: int
    error: str | None
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp
    completed_at: Timestamp | None


class RunPublic(RunSummary):
    input: JsonObject
    outputs: JsonObject = Field(description="Each finished step's output, by step key.")
    steps: list[StepPublic] = Field(description="The timeline, in order.")

    @classmethod
    def of(cls, run: Run | Row[Any], steps: Sequence[StepRun | Row[Any]]) -> RunPublic:
        """From a run and its steps, as ORM objects or Core rows (attributes are read)."""
        values = {name: getattr(run, name) for name in _RUN_COLUMNS}
        return cls(**values, workflow_version=run.version_number, input=run.input or {},
                   outputs=run.outputs or {}, steps=[StepPublic.of(step) for step in steps])


_RUN_COLUMNS = [name for name in RunSummary.model_fields if name != "workflow_version"]


class RunPage(Page[RunSummary]):
    pass
