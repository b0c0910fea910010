"""/api/v1/credentials: create, list and delete; values are write-only (no credentials:read
scope exists: listing names needs credentials:write too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status
from sqlmodel import Session

from app.api.deps import ReadSession, WriteSession, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.openapi import problems
from app.api.pagination import OffsetPaging, PageRequest, page_of
from app.api.routing import api_router
from app.api.schemas.credentials import CredentialCreate, CredentialPage, CredentialPublic
from app.errors import not_found
from app.models import Actor
from app.repo import credentials as credentials_repo
from app.services import credentials

router = api_router(prefix="/api/v1/credentials", tags=["credentials"])

Manager = Annotated[Actor, Depends(require("credentials:write"))]
ATTRIBUTES = credentials_repo.CREDENTIAL_ATTRIBUTES
CredentialConditions = Annotated[Conditions, Depends(filters_param(ATTRIBUTES))]


@router.get("", name="list_credentials", response_model=CredentialPage,
            summary="List credentials (never their values)")
def list_credentials(caller: Manager, session: ReadSession, paging: OffsetPaging,
                     conditions: CredentialConditions,
                     search: Annotated[str | None, Query(max_length=200)] = None
                     ) -> dict[str, object]:
    return _page(caller, session, paging, conditions, search)


def _page(caller: Actor, session: Session, paging: PageRequest, conditions: Conditions,
          search: str | None = None) -> dict[str, object]:
    rows = credentials_repo.list_credentials_page(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, search=search,
        before=paging.before, offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, CredentialPublic.model_validate)


add_search(router, "/search", name="search_credentials", response_model=CredentialPage,
           summary="List credentials matching structured filters (never their values)",
           attributes=ATTRIBUTES, caller=require("credentials:write"), page=_page)


@router.post("", name="create_credential", status_code=status.HTTP_201_CREATED,
             response_model=CredentialPublic, summary="Store a credential (encrypted)",
             responses={201: {"links": {"DeleteCredential": {
                 "operationId": "delete_credential",
                 "parameters": {"credential_id": "$response.body#/id"}}}}},
             openapi_extra={"x-response-headers": {"201": ["Location"]}})
def create_credential(body: CredentialCreate, caller: Manager, session: WriteSession,
                      response: Response) -> CredentialPublic:
    credential = credentials.create_credential(
        session, workspace_id=caller.workspace_id, actor=caller, name=body.name,
        type=body.type, value=body.value, config=body.config)
    response.headers["Location"] = f"{router.prefix}/{credential.id}"
    return CredentialPublic.model_validate(credential)


@router.get("/{credential_id}", name="get_credential", response_model=CredentialPublic,
            responses=problems(404), summary="Get a credential's name, type and config")
def get_credential(credential_id: str, caller: Manager,
                   session: ReadSession) -> CredentialPublic:
    credential = credentials_repo.find_credential(session, workspace_id=caller.workspace_id,
                                                  ref=credential_id)
    if credential is None or credential.id != credential_id:
        raise not_found("credential", credential_id)
    return CredentialPublic.model_validate(credential)


@router.delete("/{credential_id}", name="delete_credential",
               status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses=problems(404), summary="Delete a credential")
def delete_credential(credential_id: str, caller: Manager, session: WriteSession) -> Response:
    credentials.delete_credential(session, workspace_id=caller.workspace_id,
                                  credential_id=credential_id, actor=caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
