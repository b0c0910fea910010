"""/api/v1/approvals: list (filters), get, decide. A key with approvals:write decides for
its workspace; the decision is recorded as the key's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Query, Response
from sqlmodel import Session

from app.api.deps import ReadSession, WriteSession, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.idempotency import KeptAnswer, Keyed
from app.api.openapi import problems
from app.api.pagination import Created, OffsetPaging, PageRequest, page_of
from app.api.routing import api_router
from app.api.schemas.approvals import (
    ApprovalDecision,
    ApprovalDelegate,
    ApprovalPage,
    ApprovalPublic,
    ApprovalReassign,
)
from app.clock import utcnow
from app.errors import not_found
from app.models import Actor, Approval
from app.repo import approvals as approvals_repo
from app.services import approval_delegation, approvals

router = api_router(prefix="/api/v1/approvals", tags=["approvals"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Decider = Annotated[Actor, Depends(require("approvals:write"))]
StatusFilter = Annotated[str | None, Query(
    pattern=r"^(pending|approved|rejected|expired|cancelled)(,(pending|approved|rejected|expired|cancelled))*$",
    description="One status or several, comma-separated.", examples=["pending"])]
IdFilter = Annotated[str | None, Query(max_length=200)]
AssigneeFilter = Annotated[str | None, Query(
    max_length=320, pattern=r'^(role:[A-Za-z0-9_.-]+|[^\s"\\,]+@[^\s"\\,]+)$',
    description="Items assigned to this member by email (\"mine\" for an integrator acting "
                "for them), or to `role:<name>` (\"my roles\").",
    examples=["approver@example.com", "role:approver"])]
DelegatedFilter = Annotated[str | None, Query(
    max_length=320, pattern=r'^[^\s"\\,]+@[^\s"\\,]+$',
    description="Items delegated to this member's email.", examples=["approver@example.com"])]
OverdueFilter = Annotated[bool | None, Query(
    description="`true`: only pending items past their due time.")]
ATTRIBUTES = approvals_repo.APPROVAL_ATTRIBUTES
ApprovalConditions = Annotated[Conditions, Depends(filters_param(ATTRIBUTES))]


def _page(session: Session, paging: PageRequest, rows: Sequence[Approval]) -> dict[str, object]:
    votes = approvals_repo.votes_of_many(session, [row.id for row in rows])
    return page_of(rows, paging, lambda row: ApprovalPublic.of(row, votes[row.id]))


@router.get("", name="list_approvals", response_model=ApprovalPage,
            summary="List approvals (newest first; `status=pending` for the inbox)")
def list_approvals(caller: Reader, session: ReadSession, paging: OffsetPaging,
                   created: Created, conditions: ApprovalConditions,
                   status: StatusFilter = None, run_id: IdFilter = None,
                   workflow_id: IdFilter = None, assignee: AssigneeFilter = None,
                   delegated_to: DelegatedFilter = None,
                   overdue: OverdueFilter = None) -> dict[str, object]:
    rows = approvals_repo.list_approvals(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, status=status,
        run_id=run_id, workflow_id=workflow_id, created_after=created.after,
        created_before=created.before, before=paging.before, assignee=assignee,
        delegated_to=delegated_to, overdue_at=utcnow() if overdue else None,
        offset=paging.offset, conditions=conditions)
    return _page(session, paging, rows)


def _searched(caller: Actor, session: Session, paging: PageRequest,
              conditions: Conditions) -> dict[str, object]:
    rows = approvals_repo.list_approvals(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, before=paging.before,
        offset=paging.offset, conditions=conditions)
    return _page(session, paging, rows)


add_search(router, "/search", name="search_approvals", response_model=ApprovalPage,
           summary="List approvals matching structured filters", attributes=ATTRIBUTES,
           caller=require("runs:read"), page=_searched)


@router.get("/{approval_id}", name="get_approval", response_model=ApprovalPublic,
            responses=problems(404), summary="Get an approval")
def get_approval(approval_id: str, caller: Reader, session: ReadSession) -> ApprovalPublic:
    approval = approvals_repo.get_approval(session, approval_id,
                                           workspace_id=caller.workspace_id)
    if approval is None:
        raise not_found("approval", approval_id)
    return ApprovalPublic.of(approval, approvals_repo.votes_of(session, approval.id))


@router.post("/{approval_id}/decide", name="decide_approval", response_model=ApprovalPublic,
             responses=problems(403, 404, 409),
             summary="Vote to approve or reject; when the votes meet the step's policy the run "
                     "continues (or ends)",
             description="Each voter votes once. The policy (`any`, `all`, `quorum`) says when "
                         "the votes decide the step; until then the approval stays `pending` "
                         "with the vote recorded. Who started the run is refused (403, "
                         "`reason: requester`) unless the policy allows them. Approver fields "
                         "are required to approve (422 naming `fields.<name>`).")
def decide_approval(approval_id: str, body: ApprovalDecision, caller: Decider,
                    session: WriteSession, keyed: Keyed) -> Response:
    def shape(approval: Approval) -> ApprovalPublic:  # in the transaction: the votes as cast
        return ApprovalPublic.of(approval, approvals_repo.votes_of(session, approval.id))

    answer = KeptAnswer(keyed, shape).claim(session)
    approvals.decide_approval(session, workspace_id=caller.workspace_id,
                              approval_id=approval_id, decision=body.decision,
                              actor=caller, comment=body.comment, fields=body.fields,
                              before_commit=answer)
    return answer.response()


def _answer(session: Session, approval: Approval) -> ApprovalPublic:
    return ApprovalPublic.of(approval, approvals_repo.votes_of(session, approval.id))


@router.post("/{approval_id}/delegate", name="delegate_approval",
             response_model=ApprovalPublic, responses=problems(403, 404, 409),
             summary="Hand an assignee's vote on a pending approval to another member",
             description="The key acts for the assignee named in `from` (a chat bot, a "
                         "portal): the delegate then votes in their place, counted as theirs "
                         "by the policy. 422 names `to` when the delegate may not decide, "
                         "`from` when the delegator is not a member; 403 when they are not an "
                         "assignee; 409 when they voted or delegated already.")
def delegate_approval(approval_id: str, body: ApprovalDelegate, caller: Decider,
                      session: WriteSession) -> ApprovalPublic:
    approval = approval_delegation.delegate(session, actor=caller, approval_id=approval_id,
                                            to_email=body.to, from_email=body.from_)
    return _answer(session, approval)


@router.post("/{approval_id}/reassign", name="reassign_approval",
             response_model=ApprovalPublic, responses=problems(403, 404, 409),
             summary="Replace a pending approval's assignees (admins and API keys)")
def reassign_approval(approval_id: str, body: ApprovalReassign, caller: Decider,
                      session: WriteSession) -> ApprovalPublic:
    approval = approval_delegation.reassign(session, actor=caller, approval_id=approval_id,
                                            assignees=body.assignees)
    return _answer(session, approval)
