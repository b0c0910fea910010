"""/api/v1/me/out-of-office: a member's out-of-office delegate, set by a key acting for the
member it names in `user` (API keys act for no person of their own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status

from app.api.deps import ReadSession, WriteSession, require
from app.api.routing import api_router
from app.api.schemas.out_of_office import USER_DESCRIPTION, OutOfOfficePublic, OutOfOfficeUpdate
from app.models import Actor
from app.services import out_of_office

router = api_router(prefix="/api/v1/me/out-of-office", tags=["approvals"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Decider = Annotated[Actor, Depends(require("approvals:write"))]
UserQuery = Annotated[str, Query(min_length=3, max_length=320, description=USER_DESCRIPTION,
                                 examples=["ann@acme.test"])]


@router.get("", name="get_out_of_office", response_model=OutOfOfficePublic,
            summary="A member's out-of-office delegate (nulls when none is set)")
def get_out_of_office(user: UserQuery, caller: Reader,
                      session: ReadSession) -> OutOfOfficePublic:
    shown = out_of_office.get_out_of_office(session, actor=caller, user_email=user)
    return OutOfOfficePublic.of(user.strip().lower(), shown)


@router.put("", name="set_out_of_office", response_model=OutOfOfficePublic,
            summary="Set a member's out-of-office delegate for a date range",
            description="The member's pending approvals that name them by email (not through "
                        "a role) are delegated to `delegate_email` for the range at once, and "
                        "so are new ones created before it ends; each emits "
                        "`approval.delegated` with `reason: out_of_office`. When the range "
                        "ends the delegate no longer decides and the member does again. "
                        "Saving again replaces the range. 422 names `user`, "
                        "`delegate_email`, `starts_at` or `ends_at`; 403 when the member's "
                        "role cannot decide approvals.")
def set_out_of_office(body: OutOfOfficeUpdate, caller: Decider,
                      session: WriteSession) -> OutOfOfficePublic:
    shown = out_of_office.set_out_of_office(
        session, actor=caller, user_email=body.user, delegate_email=body.delegate_email,
        starts_at=body.starts_at, ends_at=body.ends_at)
    return OutOfOfficePublic.of(shown.user_email, shown)


@router.delete("", name="clear_out_of_office", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response,
               summary="Clear a member's out-of-office delegate (they are back)",
               description="Delegations under way end now; ranges not begun are dropped.")
def clear_out_of_office(user: UserQuery, caller: Decider, session: WriteSession) -> Response:
    out_of_office.clear_out_of_office(session, actor=caller, user_email=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
