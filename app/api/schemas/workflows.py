"""Workflows, their published versions and validation reports."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.api.schemas.common import FieldProblem, JsonObject, Page, RequestBody, Timestamp

DEFINITION_EXAMPLE: JsonObject = {
    "start": "intake",
    "steps": {
        "intake": {"kind": "input", "fields": [
            {"name": "Full Name", "type": "text", "required": True},
            {"name": "Email", "type": "email", "required": True}], "next": "manager"},
        "manager": {"kind": "approval", "assignees": ["role:approver"],
                    "instructions": "Approve {{ input['Full Name'] }}", "next": "welcome"},
        "welcome": {"kind": "tool", "tool": "set",
                    "args": {"message": "Welcome {{ input['Full Name'] }}"}, "done": True},
    },
}
DEFINITION_DOC = ("The workflow definition: `start` and named `steps` (kinds input, http, tool, "
                  "branch, approval, signal, delay, subworkflow); seed 004's flow format is "
                  "accepted and converted. Validated on save: 422 lists every problem.")


class WorkflowCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "Employee onboarding", "description": "New hires, approved by a manager",
        "definition": DEFINITION_EXAMPLE}]})

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    definition: JsonObject = Field(description=DEFINITION_DOC)


class WorkflowUpdate(RequestBody):
    """Only the properties sent change; send `If-Match` with the version you read."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Onboarding (v2)"}]})

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    definition: JsonObject | None = Field(None, description=DEFINITION_DOC)
    error_workflow_id: str | None = Field(
        None, max_length=40,
        description="A workflow of this workspace to start (with the failure as its input) "
                    "when a run of this one is FLAGGED; null clears it. A setting, not part "
                    "of the draft: it applies at once, without publishing.")


class WorkflowValidate(RequestBody):
    definition: JsonObject | None = Field(
        None, description="A definition to check; omit it to check the saved draft.")


class ValidationReport(BaseModel):
    valid: bool
    errors: list[FieldProblem]


class WorkflowSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["wf_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    title: str
    description: str
    status: str = Field(description="draft or published", examples=["published"])
    version: int = Field(description="The draft's version; send it as If-Match when you "
                                     "PATCH. Also the ETag.", examples=[3])
    published_version: int | None = Field(validation_alias=AliasChoices("published_version",
                                                           "published_number"),
                                          description="The version number new runs use.")
    error_workflow_id: str | None = Field(
        None, description="The workflow started when a run of this one is FLAGGED (null: the "
                          "workspace's default_error_workflow_id applies).")
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp


class WorkflowPublic(WorkflowSummary):
    definition: JsonObject = Field(description="The draft definition.")


class WorkflowVersionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workflow_id: str
    number: int
    title: str
    published_by: str | None
    published_at: Timestamp


class WorkflowVersionPublic(WorkflowVersionSummary):
    definition: JsonObject


class WorkflowPage(Page[WorkflowSummary]):
    pass


class WorkflowVersionPage(Page[WorkflowVersionSummary]):
    pass
