"""Approvals: a person's (or an API key's) decision on a waiting approval step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from app.api.schemas.common import Page, RequestBody, Timestamp
from app.engine.approval_policy import APPROVED, Policy
from app.models import Approval, ApprovalVote


class ApprovalDecision(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"decision": "approved", "comment": "Welcome aboard",
         "fields": {"start_date": "2027-01-04"}}]})

    decision: Literal["approved", "rejected"]
    comment: str | None = Field(None, max_length=2000, description=(
        "Required to reject when the policy says `require_comment_on_reject`."))
    fields: dict[str, Any] | None = Field(None, description=(
        "The approver fields the step asks for (`policy.fields`), required to approve; "
        "later steps read them as `steps.<key>.fields.<name>`."))


class ApprovalDelegate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"from": "ann@acme.test", "to": "bob@acme.test"}]})

    to: str = Field(min_length=3, max_length=320,
                    description="The email of the member who votes in the delegator's place")
    from_: str | None = Field(
        default=None, alias="from", min_length=3, max_length=320,
        description="The assignee who hands their vote on (an API key acts for them)")


class ApprovalReassign(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"assignees": ["role:approver", "ann@acme.test"]}]})

    assignees: list[str] = Field(min_length=1, max_length=50, description=(
        "The new assignees: emails (`ann@acme.test` or `user:…`) and roles (`role:approver`)"))


class ApprovalVotePublic(BaseModel):
    by: str = Field(description="The voter: an email, or an API key's prefix")
    decision: Literal["approved", "rejected"]
    comment: str | None
    fields: dict[str, Any]
    via: str = Field(description="page, link, api, email or cli", examples=["page"])
    at: Timestamp

    @classmethod
    def of(cls, vote: ApprovalVote) -> ApprovalVotePublic:
        return cls(by=vote.label, decision=vote.decision, comment=vote.comment,
                   fields=dict(vote.fields or {}), via=vote.via, at=vote.created_at)


class ApprovalPolicyPublic(BaseModel):
    mode: Literal["any", "all", "quorum"] = Field(description=(
        "any: the first decision wins; all: every assignee approves, one rejection "
        "rejects; quorum: `quorum` approvals approve"))
    quorum: int | None
    approvals_needed: int
    allow_requester: bool = Field(description="Whether who started the run may decide it")
    require_comment_on_reject: bool
    fields: list[dict[str, Any]] = Field(description=(
        "Approver fields (the same kinds as an input step's) to fill in to approve"))

    @classmethod
    def of(cls, policy: Policy) -> ApprovalPolicyPublic:
        return cls(mode=policy.mode, quorum=policy.quorum,
                   approvals_needed=policy.approvals_needed(),
                   allow_requester=policy.allow_requester,
                   require_comment_on_reject=policy.require_comment_on_reject,
                   fields=[f.model_dump(exclude_none=True) for f in policy.fields])


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
    status: str = Field(description="pending, approved, rejected, expired (timed out to a "
                                    "step) or cancelled",
                        examples=["pending"])
    comment: str | None
    decided_by: str | None
    decided_at: Timestamp | None
    due_at: Timestamp | None
    created_at: Timestamp
    policy: ApprovalPolicyPublic
    approvals: int = Field(description="Approvals cast so far (\"1 of 2 approvals\")")
    votes: list[ApprovalVotePublic] = Field(description="Every vote, in the order cast")
    delegations: list[dict[str, Any]] = Field(description=(
        "Votes handed on: `from` (who delegated), `to_email` (who votes in their place), `at`; "
        "an out-of-office one also has `reason: out_of_office` and the `starts_at` / `ends_at` "
        "it holds within (outside them the delegator decides again)"))

    @classmethod
    def of(cls, approval: Approval, votes: Sequence[ApprovalVote]) -> ApprovalPublic:
        policy = Policy.of_json(approval.policy, approval.assignees)
        return cls(id=approval.id, run_id=approval.run_id, step_id=approval.step_run_id,
                   step_key=approval.step_key, workflow_id=approval.workflow_id,
                   workflow_title=approval.workflow_title, assignees=list(approval.assignees),
                   instructions=approval.instructions, status=approval.status,
                   comment=approval.comment, decided_by=approval.decided_by,
                   decided_at=approval.decided_at, due_at=approval.due_at,
                   created_at=approval.created_at, policy=ApprovalPolicyPublic.of(policy),
                   approvals=sum(1 for vote in votes if vote.decision == APPROVED),
                   votes=[ApprovalVotePublic.of(vote) for vote in votes],
                   delegations=[_delegation(d) for d in approval.delegations or ()])


def _delegation(entry: dict[str, Any]) -> dict[str, Any]:
    shown = {"from": entry.get("from_label"), "to_email": entry.get("to_email"),
             "at": entry.get("at")}
    if entry.get("reason"):
        shown.update(reason=entry["reason"], starts_at=entry.get("starts_at"),
                     ends_at=entry.get("ends_at"))
    return shown


class ApprovalPage(Page[ApprovalPublic]):
    pass
