"""/api/v1/forms: CRUD (If-Match on PATCH), submit, list submissions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Response, status
from sqlmodel import Session

from app.api.deps import IfMatch, ReadSession, WriteSession, etag, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.openapi import problems
from app.api.pagination import Created, OffsetPaging, PageRequest, page_of
from app.api.routing import api_router
from app.api.schemas.forms import (
    FormCreate,
    FormPage,
    FormPublic,
    FormUpdate,
    FormVersionList,
    FormVersionPublic,
    SubmissionCreate,
    SubmissionPage,
    SubmissionPublic,
)
from app.errors import not_found
from app.models import Actor, Form
from app.repo import forms as forms_repo
from app.services import forms
from app.settings import get_settings

router = api_router(prefix="/api/v1/forms", tags=["forms"])

Reader = Annotated[Actor, Depends(require("forms:read"))]
Writer = Annotated[Actor, Depends(require("forms:write"))]
FormConditions = Annotated[Conditions, Depends(filters_param(forms_repo.FORM_ATTRIBUTES))]
SubmissionConditions = Annotated[Conditions,
                                 Depends(filters_param(forms_repo.SUBMISSION_ATTRIBUTES))]
FORM_LINKS = {201: {"links": {
    "GetForm": {"operationId": "get_form", "parameters": {"form_id": "$response.body#/id"}},
    "SubmitForm": {"operationId": "submit_form",
                   "parameters": {"form_id": "$response.body#/id"}},
    "DeleteForm": {"operationId": "delete_form",
                   "parameters": {"form_id": "$response.body#/id"}},
    "PublishForm": {"operationId": "publish_form",
                    "parameters": {"form_id": "$response.body#/id"}},
    "ListFormVersions": {"operationId": "list_form_versions",
                         "parameters": {"form_id": "$response.body#/id"}},
    "ListFormSubmissions": {"operationId": "list_form_submissions",
                            "parameters": {"form_id": "$response.body#/id"}},
}}}


def _public(session: Any, form: Form, response: Response | None = None) -> FormPublic:
    if response is not None:
        response.headers["ETag"] = etag(form.version)
    return FormPublic.of(form, base_url=get_settings().public_url,
                         changed=forms.has_unpublished_changes(session, form))


def _owned(session: Any, caller: Actor, form_id: str) -> Form:
    form = forms_repo.get_form(session, form_id, workspace_id=caller.workspace_id)
    if form is None:
        raise not_found("form", form_id)
    return form


@router.get("", name="list_forms", response_model=FormPage, summary="List forms")
def list_forms(caller: Reader, session: ReadSession, paging: OffsetPaging,
               conditions: FormConditions,
               search: Annotated[str | None, Query(max_length=200)] = None
               ) -> dict[str, object]:
    return _forms_page(caller, session, paging, conditions, search)


def _forms_page(caller: Actor, session: Session, paging: PageRequest, conditions: Conditions,
                search: str | None = None) -> dict[str, object]:
    rows = forms_repo.list_forms(session, workspace_id=caller.workspace_id,
                                 limit=paging.fetch, search=search, before=paging.before,
                                 offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, lambda form: _public(session, form))


add_search(router, "/search", name="search_forms", response_model=FormPage,
           summary="List forms matching structured filters",
           attributes=forms_repo.FORM_ATTRIBUTES, caller=require("forms:read"),
           page=_forms_page)


@router.post("", name="create_form", status_code=status.HTTP_201_CREATED,
             response_model=FormPublic, summary="Create a form",
             responses={**problems(409), **FORM_LINKS},
             openapi_extra={"x-response-headers": {"201": ["Location", "ETag"]}})
def create_form(body: FormCreate, caller: Writer, session: WriteSession,
                response: Response) -> FormPublic:
    form = forms.create_form(
        session, workspace_id=caller.workspace_id, actor=caller, title=body.title,
        fields=[f.model_dump(exclude_none=True) for f in body.fields],
        description=body.description, workflow_id=body.workflow_id, slug=body.slug,
        field_map=body.field_map, is_published=body.is_published,
        success_message=body.success_message, pages=[p.model_dump() for p in body.pages])
    response.headers["Location"] = f"{router.prefix}/{form.id}"
    return _public(session, form, response)


@router.get("/{form_id}", name="get_form", response_model=FormPublic,
            responses=problems(404), summary="Get a form",
            openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def get_form(form_id: str, caller: Reader, session: ReadSession,
             response: Response) -> FormPublic:
    return _public(session, _owned(session, caller, form_id), response)


@router.patch("/{form_id}", name="update_form", response_model=FormPublic,
              responses=problems(404), summary="Change a form",
              openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def update_form(form_id: str, body: FormUpdate, caller: Writer, session: WriteSession,
                expected: IfMatch, response: Response) -> FormPublic:
    changes = body.model_dump(exclude_unset=True)
    if body.fields is not None:
        changes["fields"] = [f.model_dump(exclude_none=True) for f in body.fields]
    if body.pages is not None:
        changes["pages"] = [p.model_dump() for p in body.pages]
    form = forms.update_form(session, workspace_id=caller.workspace_id, form_id=form_id,
                             actor=caller, expected_version=expected, **changes)
    return _public(session, form, response)


@router.post("/{form_id}/publish", name="publish_form", response_model=FormPublic,
             responses=problems(404), summary="Publish the draft as a new version and open "
             "the form", openapi_extra={"x-response-headers": {"200": ["ETag"]}})
def publish_form(form_id: str, caller: Writer, session: WriteSession,
                 response: Response) -> FormPublic:
    form = forms.publish_form(session, workspace_id=caller.workspace_id, form_id=form_id,
                              actor=caller)
    return _public(session, form, response)


@router.get("/{form_id}/versions", name="list_form_versions", response_model=FormVersionList,
            responses=problems(404), summary="List a form's published versions, newest first")
def list_versions(form_id: str, caller: Reader, session: ReadSession) -> FormVersionList:
    form = _owned(session, caller, form_id)
    return FormVersionList(data=[FormVersionPublic.model_validate(v)
                                 for v in forms_repo.list_versions(session, form.id)])


@router.delete("/{form_id}", name="delete_form", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=problems(404), summary="Delete a form")
def delete_form(form_id: str, caller: Writer, session: WriteSession) -> Response:
    forms.delete_form(session, workspace_id=caller.workspace_id, form_id=form_id,
                      actor=caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{form_id}/submissions", name="submit_form",
             status_code=status.HTTP_201_CREATED, response_model=SubmissionPublic,
             responses=problems(404, 409),
             summary="Submit data to a form (starts its workflow, if it has one)")
def submit_form(form_id: str, body: SubmissionCreate, caller: Writer,
                session: WriteSession) -> SubmissionPublic:
    submission = forms.submit_form_in_workspace(session, workspace_id=caller.workspace_id,
                                                form_id=form_id, data=body.data,
                                                actor=caller)
    return SubmissionPublic.model_validate(submission)


@router.get("/{form_id}/submissions", name="list_form_submissions",
            response_model=SubmissionPage, responses=problems(404),
            summary="List a form's submissions, newest first")
def list_submissions(form_id: str, caller: Reader, session: ReadSession,
                     paging: OffsetPaging, created: Created,
                     conditions: SubmissionConditions) -> dict[str, object]:
    form = _owned(session, caller, form_id)
    rows = forms_repo.list_submissions(session, form_id=form.id, limit=paging.fetch,
                                       created_after=created.after,
                                       created_before=created.before, before=paging.before,
                                       offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, SubmissionPublic.model_validate)
