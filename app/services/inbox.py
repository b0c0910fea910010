"""The approvals inbox: what a member may see and decide, shaped for pages (no ORM objects)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from sqlmodel import Session

from app.clock import iso, utcnow
from app.engine.approval_policy import Policy, progress
from app.errors import Forbidden, not_found
from app.models import Actor, Approval, ApprovalStatus, ApprovalVote, Run
from app.models.delegation import is_out_of_office
from app.repo import approvals as approvals_repo
from app.repo import runs as runs_repo
from app.services import permissions
from app.services.approvals import (
    acting_ref,
    decide_approval,
    delegation_to,
    delegations_in_force,
    handed_on_by,
    is_assignee,
    relation,
)
from app.services.files import file_rows

INBOX_LIMIT = 200
HISTORY_LIMIT = 50


@dataclass(frozen=True)
class InboxItem:
    id: str
    run_id: str
    workflow_id: str
    workflow_title: str
    step_key: str
    instructions: str
    assignees: str
    status: str
    created_at: str
    due_at: str
    overdue: bool
    run_input: str
    earlier_outputs: str
    comment: str
    decided_by: str
    decided_at: str
    can_decide: bool
    # the policy and the votes so far
    mode: str = "any"
    progress: str = ""  # "1 of 2 approvals" (empty for `any`)
    fields: list[dict[str, Any]] = field(default_factory=list)  # approver fields to fill in
    require_comment_on_reject: bool = False
    votes: list[dict[str, str]] = field(default_factory=list)  # by, decision, comment, at
    my_vote: str = ""  # "approved"/"rejected" when the viewer already voted
    is_requester: bool = False  # the viewer started the run and the policy refuses them
    # the inbox tab: mine (by name), team (a role; admins), delegated (handed to the viewer)
    scope: str = "team"
    delegated_from: str = ""  # who handed this item to the viewer
    delegated_to: str = ""  # whom the viewer handed their vote to
    can_delegate: bool = False
    can_reassign: bool = False
    delegations: list[str] = field(default_factory=list)  # "a@x → b@x", for everyone
    out_of_office: bool = False  # the viewer's hand-over (either way) is an out-of-office one
    out_of_office_until: str = ""  # when that absence ends (the delegate stops acting)
    files: list[dict[str, str]] = field(default_factory=list)  # the run's, with links


def pretty_json(value: Any) -> str:
    if value is None or value == {} or value == []:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)


def _item(approval: Approval, *, actor: Actor, run: Run | None,
          votes: list[ApprovalVote]) -> InboxItem:
    now = utcnow()
    outputs = run.outputs if run else None
    earlier = {k: v for k, v in (outputs or {}).items() if k != approval.step_key}
    policy = Policy.of_json(approval.policy, approval.assignees)
    voter = acting_ref(approval, actor, now)
    mine = next((vote.decision for vote in votes if vote.voter == voter), "")
    refused = (not policy.allow_requester and run is not None and run.requester is not None
               and run.requester == actor.ref)
    stands = relation(approval, email=actor.email, role=actor.role, ref=actor.ref, now=now)
    handed_to_me = delegation_to(approval, actor.email, now) if actor.is_user else None
    handed_on = handed_on_by(approval, actor.ref, now)
    away = next((d for d in (handed_to_me, handed_on) if d is not None and is_out_of_office(d)),
                None)
    pending = approval.status == ApprovalStatus.PENDING
    decider = permissions.can(actor.role, permissions.DECIDE_APPROVALS)
    return InboxItem(
        id=approval.id, run_id=approval.run_id, workflow_id=approval.workflow_id,
        workflow_title=approval.workflow_title or approval.workflow_id,
        step_key=approval.step_key, instructions=approval.instructions or "",
        assignees=", ".join(approval.assignees), status=approval.status,
        created_at=iso(approval.created_at) or "", due_at=iso(approval.due_at) or "",
        overdue=bool(approval.due_at and approval.status == ApprovalStatus.PENDING
                     and approval.due_at < now),
        run_input=pretty_json(run.input if run else None), earlier_outputs=pretty_json(earlier),
        comment=approval.comment or "", decided_by=approval.decided_by or "",
        decided_at=iso(approval.decided_at) or "",
        can_decide=(pending and not mine and not refused and decider and handed_on is None
                    and is_assignee(approval, email=actor.email, role=actor.role, now=now)),
        mode=policy.mode, progress=progress(policy, [vote.decision for vote in votes]),
        fields=[f.model_dump(exclude_none=True) for f in policy.fields],
        require_comment_on_reject=policy.require_comment_on_reject,
        votes=[{"by": vote.label, "decision": vote.decision, "comment": vote.comment or "",
                "at": iso(vote.created_at) or ""} for vote in votes],
        my_vote=mine, is_requester=refused,
        scope={"mine": "mine", "handed_on": "mine", "delegated": "delegated"}.get(stands, "team"),
        delegated_from=str(handed_to_me.get("from_label", "")) if handed_to_me else "",
        delegated_to=str(handed_on.get("to_email", "")) if handed_on else "",
        can_delegate=(pending and decider and actor.is_user and not mine and not refused
                      and handed_to_me is None and handed_on is None and stands != ""),
        can_reassign=pending and actor.role == "admin",
        delegations=[f"{d.get('from_label', '')} → {d.get('to_email', '')}"
                     + (" (out of office)" if is_out_of_office(d) else "")
                     for d in (delegations_in_force(approval, now) if pending
                               else approval.delegations or ())],
        out_of_office=away is not None,
        out_of_office_until=str(away.get("ends_at", "")) if away is not None else "",
    )


def _visible(approval: Approval, actor: Actor) -> bool:
    """Deciders see what is theirs; members who cannot decide see every item, read-only."""
    if not permissions.can(actor.role, permissions.DECIDE_APPROVALS):
        return True
    return is_assignee(approval, email=actor.email, role=actor.role)


def _shape(session: Session, approvals: list[Approval], actor: Actor) -> list[InboxItem]:
    items = []
    runs: dict[str, Run | None] = {}
    votes = approvals_repo.votes_of_many(session, [a.id for a in approvals])
    for approval in approvals:
        if approval.run_id not in runs:
            runs[approval.run_id] = runs_repo.get_run(session, approval.run_id)
        run = runs[approval.run_id]
        item = _item(approval, actor=actor, run=run, votes=votes[approval.id])
        if run is not None:
            item = replace(item, files=file_rows(session, workspace_id=run.workspace_id,
                                                 values=[run.input, run.outputs]))
        items.append(item)
    return items


def pending_for(session: Session, *, actor: Actor) -> list[InboxItem]:
    """Pending approvals the member may see, newest first."""
    rows = approvals_repo.list_approvals(session, workspace_id=actor.workspace_id,
                                         limit=INBOX_LIMIT, status=ApprovalStatus.PENDING)
    return _shape(session, [a for a in rows if _visible(a, actor)], actor)


def count_pending_for(session: Session, *, actor: Actor) -> int:
    """How many pending approvals wait for the member's vote (the sidebar badge)."""
    if not permissions.can(actor.role, permissions.DECIDE_APPROVALS):
        return 0
    rows = approvals_repo.list_approvals(session, workspace_id=actor.workspace_id,
                                         limit=INBOX_LIMIT, status=ApprovalStatus.PENDING)
    mine = [a for a in rows if is_assignee(a, email=actor.email, role=actor.role)
            and relation(a, email=actor.email, role=actor.role, ref=actor.ref) != "handed_on"]
    votes = approvals_repo.votes_of_many(session, [a.id for a in mine])
    return sum(1 for a in mine
               if all(vote.voter != acting_ref(a, actor) for vote in votes[a.id]))


def decided_for(session: Session, *, actor: Actor) -> list[InboxItem]:
    """Decided (or cancelled) approvals the member could see, newest first."""
    rows = approvals_repo.list_approvals(
        session, workspace_id=actor.workspace_id, limit=HISTORY_LIMIT * 4,
        status=",".join((ApprovalStatus.APPROVED, ApprovalStatus.REJECTED,
                         ApprovalStatus.EXPIRED, ApprovalStatus.CANCELLED)))
    visible = [a for a in rows if _visible(a, actor)][:HISTORY_LIMIT]
    return _shape(session, visible, actor)


def decide(session: Session, *, actor: Actor, approval_id: str, decision: str,
           comment: str | None = None, fields: dict[str, Any] | None = None) -> Approval:
    """Decide as a signed-in member: the role must allow deciding and the member be assigned."""
    permissions.require(actor.role, permissions.DECIDE_APPROVALS)
    approval = approvals_repo.get_approval(session, approval_id, workspace_id=actor.workspace_id)
    if approval is None:
        raise not_found("approval", approval_id)
    if approval.status == ApprovalStatus.PENDING and not is_assignee(
            approval, email=actor.email, role=actor.role):
        raise Forbidden("You are not an assignee of this approval")
    return decide_approval(session, workspace_id=actor.workspace_id, approval_id=approval_id,
                           decision=decision, actor=actor, comment=comment, fields=fields,
                           via="page")
