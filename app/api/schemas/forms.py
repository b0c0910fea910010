"""Forms (fields, public slug, the workflow they start) and their submissions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.common import JsonObject, Page, RequestBody, Timestamp
from app.engine.fields import FieldSpec
from app.models import Form

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$"
FIELDS_EXAMPLE = [{"name": "Full Name", "type": "text", "required": True},
                  {"name": "Email", "type": "email", "required": True}]


class FormPageSpec(BaseModel):
    """A page of a multi-page form; a field's `page` (1 = the first) says where it goes."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


PAGES_DESCRIPTION = ("The form's pages, in order; fields are shown page by page (each field's "
                     "`page`, 1 = the first). Empty: one page.")


class FormCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "New hire onboarding", "fields": FIELDS_EXAMPLE, "is_published": True}]})

    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    fields: list[FieldSpec] = Field(max_length=200)
    workflow_id: str | None = Field(None, min_length=1, max_length=40, description=(
        "The workflow each submission starts (its input is the submitted data)."))
    slug: str | None = Field(None, pattern=SLUG_PATTERN, description="The public page is "
                             "/f/<slug>; generated from the title when omitted.")
    field_map: dict[str, str] = Field(default_factory=dict, max_length=200, description=(
        "Form field name → workflow input field name, where they differ."))
    pages: list[FormPageSpec] = Field(default_factory=list, max_length=50,
                                      description=PAGES_DESCRIPTION)
    is_published: bool = Field(False, description="Publish version 1 at once.")
    success_message: str | None = Field(None, max_length=2000)


class FormUpdate(RequestBody):
    """Only the properties sent change the draft; `workflow_id: null` unlinks the workflow.
    The public page keeps serving the published version: `is_published: true` publishes
    the draft as a new version, `false` closes the form."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"is_published": False}]})

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    fields: list[FieldSpec] | None = Field(None, max_length=200)
    workflow_id: str | None = Field(None, min_length=1, max_length=40)
    slug: str | None = Field(None, pattern=SLUG_PATTERN)
    field_map: dict[str, str] | None = Field(None, max_length=200)
    pages: list[FormPageSpec] | None = Field(None, max_length=50, description=PAGES_DESCRIPTION)
    is_published: bool | None = None
    success_message: str | None = Field(None, max_length=2000)


class FormPublic(BaseModel):
    id: str = Field(examples=["frm_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    title: str
    description: str
    fields: list[FieldSpec]
    pages: list[FormPageSpec]
    slug: str
    public_url: str = Field(description="Anyone with this link can submit (when published).")
    workflow_id: str | None
    field_map: dict[str, str]
    is_published: bool
    published_version: int | None = Field(description=(
        "The version the public page serves and submissions are made on."))
    has_unpublished_changes: bool = Field(description=(
        "The draft differs from the published version (publish to serve it)."))
    success_message: str
    version: int = Field(description=(
        "Counts saves of the draft: send it as If-Match when you PATCH; also the ETag."))
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: Form, *, base_url: str, changed: bool) -> FormPublic:
        return cls(id=row.id, title=row.title, description=row.description,
                   fields=[FieldSpec.model_validate(f) for f in row.fields or []],
                   pages=[FormPageSpec.model_validate(p) for p in row.pages or []],
                   published_version=row.published_version, has_unpublished_changes=changed,
                   slug=row.slug, public_url=f"{base_url.rstrip('/')}/f/{row.slug}",
                   workflow_id=row.workflow_id, field_map=row.field_map or {},
                   is_published=row.is_published, success_message=row.success_message,
                   version=row.version, created_by=row.created_by, created_at=row.created_at,
                   updated_at=row.updated_at)


class SubmissionCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"data": {
        "Full Name": "Jane Doe", "Email": "jane@acme.com"}}]})

    data: JsonObject = Field(description="Values by field name.")


class SubmissionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["sub_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    form_id: str
    data: JsonObject
    form_version: int | None = Field(description=(
        "The published version it was made on (null: the draft of an unpublished form)."))
    run_id: str | None = Field(description="The run the submission started, if any.")
    created_at: Timestamp


class FormVersionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    title: str
    description: str
    fields: list[FieldSpec]
    pages: list[FormPageSpec]
    workflow_id: str | None
    field_map: dict[str, str]
    success_message: str
    created_by: str | None
    created_at: Timestamp


class FormVersionList(BaseModel):
    data: list[FormVersionPublic]


class FormPage(Page[FormPublic]):
    pass


class SubmissionPage(Page[SubmissionPublic]):
    pass
