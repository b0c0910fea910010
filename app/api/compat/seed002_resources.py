"""Seed 002's forms (with submissions), credentials (write-only values), integrations (the
workspace's credentials, with a test call) and webhooks at /v1, in its envelope."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Depends, Query, status
from pydantic import BaseModel

from app.api.deps import ReadSession, WriteSession, require
from app.api.pagination import MAX_LIMIT, MAX_PAGE, PageRequest, page_of, paging_of
from app.api.routing import api_router
from app.api.schemas.seed002 import (
    CredentialCreate,
    CredentialItem,
    FormCreate,
    FormItem,
    IntegrationItem,
    IntegrationTest,
    Ok,
    SubmissionItem,
    Submit,
    WebhookCreate,
    WebhookCreated,
    WebhookItem,
    ok,
)
from app.errors import not_found
from app.models import Actor, Credential, Form, FormSubmission, Webhook
from app.repo import credentials as credentials_repo
from app.repo import forms as forms_repo
from app.repo import webhooks as webhooks_repo
from app.services import compat_seed002 as seed002
from app.services import credentials, forms, webhooks

router = api_router(prefix="/v1", tags=["compat: seed 002"], include_in_schema=False)

FormReader = Annotated[Actor, Depends(require("forms:read"))]
FormWriter = Annotated[Actor, Depends(require("forms:write"))]
Keeper = Annotated[Actor, Depends(require("credentials:write"))]
Hooks = Annotated[Actor, Depends(require("webhooks:write"))]
PageNumber = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
DEFAULT_LIMIT = 20
Row = TypeVar("Row")


def _form(form: Form) -> FormItem:
    return FormItem(id=form.id, name=form.title, description=form.description,
                    fields=list(form.fields or []), workflow_id=form.workflow_id,
                    is_published=form.is_published, created_at=form.created_at)


def _submission(row: FormSubmission) -> SubmissionItem:
    return SubmissionItem(id=row.id, form_id=row.form_id, data=row.data or {},
                          execution_id=row.run_id, created_at=row.created_at)


def _credential(row: Credential) -> CredentialItem:
    return CredentialItem(id=row.id, name=row.name, type=row.type, created_at=row.created_at)


def _webhook(row: Webhook) -> WebhookItem:
    return WebhookItem(id=row.id, url=row.url, events=list(row.events), active=row.active,
                       created_at=row.created_at)


def _listed(page: int, limit: int, fetch: Callable[[PageRequest], Sequence[Row]],
            shape: Callable[[Row], BaseModel]) -> Ok:
    """One offset page (`fetch` reads `paging.fetch` rows from `paging.offset`)."""
    paging = paging_of(limit=limit, page=page)
    body = page_of(fetch(paging), paging, shape)
    return ok(body["data"], page=page, limit=limit, has_more=body["has_more"])


def _owned_form(session: ReadSession, caller: Actor, form_id: str) -> Form:
    form = forms_repo.get_form(session, form_id, workspace_id=caller.workspace_id)
    if form is None:
        raise not_found("form", form_id)
    return form


# ---------------------------------------------------------------- forms


@router.get("/forms", name="seed002_list_forms", response_model=Ok)
def list_forms(caller: FormReader, session: ReadSession, page: PageNumber = 1,
               limit: Limit = DEFAULT_LIMIT) -> Ok:
    return _listed(page, limit, lambda paging: forms_repo.list_forms(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, offset=paging.offset),
        _form)


@router.get("/forms/{id}", name="seed002_get_form", response_model=Ok)
def get_form(id: str, caller: FormReader, session: ReadSession) -> Ok:
    return ok(_form(_owned_form(session, caller, id)))


@router.post("/forms", name="seed002_create_form", response_model=Ok,
             status_code=status.HTTP_201_CREATED)
def create_form(body: FormCreate, caller: FormWriter, session: WriteSession) -> Ok:
    form = forms.create_form(session, workspace_id=caller.workspace_id, actor=caller,
                             title=body.name, description=body.description,
                             fields=[f.model_dump(exclude_none=True) for f in body.fields],
                             workflow_id=body.workflow_id)
    return ok(_form(form))


@router.post("/forms/{id}/submissions", name="seed002_submit_form", response_model=Ok,
             status_code=status.HTTP_201_CREATED)
def submit_form(id: str, body: Submit, caller: FormWriter, session: WriteSession) -> Ok:
    submission = forms.submit_form_in_workspace(session, workspace_id=caller.workspace_id,
                                                form_id=id, data=body.data, actor=caller)
    return ok(_submission(submission))


@router.get("/forms/{id}/submissions", name="seed002_list_submissions", response_model=Ok)
def list_submissions(id: str, caller: FormReader, session: ReadSession, page: PageNumber = 1,
                     limit: Limit = DEFAULT_LIMIT) -> Ok:
    form = _owned_form(session, caller, id)
    return _listed(page, limit, lambda paging: forms_repo.list_submissions(
        session, form_id=form.id, limit=paging.fetch, offset=paging.offset), _submission)


# ---------------------------------------------------------------- credentials, integrations


@router.get("/credentials", name="seed002_list_credentials", response_model=Ok)
def list_credentials(caller: Keeper, session: ReadSession, page: PageNumber = 1,
                     limit: Limit = DEFAULT_LIMIT) -> Ok:
    return _listed(page, limit, lambda paging: credentials_repo.list_credentials_page(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, offset=paging.offset),
        _credential)


@router.post("/credentials", name="seed002_create_credential", response_model=Ok,
             status_code=status.HTTP_201_CREATED)
def create_credential(body: CredentialCreate, caller: Keeper, session: WriteSession) -> Ok:
    return ok(_credential(credentials.create_credential(
        session, workspace_id=caller.workspace_id, actor=caller, name=body.name,
        type=body.type, value=body.value)))


@router.delete("/credentials/{id}", name="seed002_delete_credential", response_model=Ok)
def delete_credential(id: str, caller: Keeper, session: WriteSession) -> Ok:
    credentials.delete_credential(session, workspace_id=caller.workspace_id,
                                  credential_id=id, actor=caller)
    return ok({"id": id, "deleted": True})


@router.get("/integrations", name="seed002_list_integrations", response_model=Ok)
def list_integrations(caller: Keeper, session: ReadSession) -> Ok:
    rows = credentials_repo.list_credentials(session, workspace_id=caller.workspace_id)
    return ok([IntegrationItem(id=row.id, name=row.name, type=row.type, connected=True,
                               created_at=row.created_at) for row in rows], total=len(rows))


@router.post("/integrations/{id}/test", name="seed002_test_integration", response_model=Ok)
def test_integration(id: str, caller: Keeper, session: ReadSession) -> Ok:
    found, usable, message = seed002.test_integration(session, workspace_id=caller.workspace_id,
                                                      integration_id=id)
    return ok(IntegrationTest(id=found.id, ok=usable, message=message))


# ---------------------------------------------------------------- webhooks


@router.post("/webhooks", name="seed002_create_webhook", response_model=Ok,
             status_code=status.HTTP_201_CREATED)
def create_webhook(body: WebhookCreate, caller: Hooks, session: WriteSession) -> Ok:
    created = webhooks.create_webhook(
        session, workspace_id=caller.workspace_id, actor=caller, url=body.url,
        events=None if body.events is None else seed002.subscribed_events(body.events),
        secret=body.secret)
    return ok(WebhookCreated(**_webhook(created.webhook).model_dump(), secret=created.secret))


@router.get("/webhooks", name="seed002_list_webhooks", response_model=Ok)
def list_webhooks(caller: Hooks, session: ReadSession, page: PageNumber = 1,
                  limit: Limit = DEFAULT_LIMIT) -> Ok:
    return _listed(page, limit, lambda paging: webhooks_repo.list_webhooks(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, offset=paging.offset),
        _webhook)


@router.delete("/webhooks/{id}", name="seed002_delete_webhook", response_model=Ok)
def delete_webhook(id: str, caller: Hooks, session: WriteSession) -> Ok:
    webhooks.delete_webhook(session, workspace_id=caller.workspace_id, webhook_id=id,
                            actor=caller)
    return ok({"id": id, "deleted": True})
