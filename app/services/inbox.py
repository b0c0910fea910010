"""The approvals inbox: what a member may see and decide, shaped for pages (no ORM objects)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.clock import iso, utcnow
from app.errors import Forbidden, not_found
from app.models import Actor, Approval, ApprovalStatus
from app.repo import approvals as approvals_repo
from app.repo import runs as runs_repo
from app.services import permissions
from app.services.approvals import decide_approval, is_assignee

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


def pretty_json(value: Any) -> str:
    if value is None or value == {} or value == []:
        return ""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)


def _item(approval: Approval, *, actor: Actor, run_input: Any, outputs: Any) -> InboxItem:
    now = utcnow()
    earlier = {k: v for k, v in (outputs or {}).items() if k != approval.step_key}
    return InboxItem(
        id=approval.id, run_id=approval.run_id, workflow_id=approval.workflow_id,
        workflow_title=approval.workflow_title or approval.workflow_id,
        step_key=approval.step_key, instructions=approval.instructions or "",
        assignees=", ".join(approval.assignees), status=approval.status,
        created_at=iso(approval.created_at) or "", due_at=iso(approval.due_at) or "",
        overdue=bool(approval.due_at and approval.status == ApprovalStatus.PENDING
                     and approval.due_at < now),
        run_input=pretty_json(run_input), earlier_outputs=pretty_json(earlier),
        comment=approval.comment or "", decided_by=approval.decided_by or "",
        decided_at=iso(approval.decided_at) or "",
        can_decide=(approval.status == ApprovalStatus.PENDING
                    and permissions.can(actor.role, permissions.DECIDE_APPROVALS)
                    and is_assignee(approval, email=actor.email, role=actor.role)),
    )


def _visible(approval: Approval, actor: Actor) -> bool:
    """Deciders see what is theirs; members who cannot decide see every item, read-only."""
    if not permissions.can(actor.role, permissions.DECIDE_APPROVALS):
        return True
    return is_assignee(approval, email=actor.email, role=actor.role)


def _shape(session: Session, approvals: list[Approval], actor: Actor) -> list[InboxItem]:
    items = []
    runs: dict[str, Any] = {}
    for approval in approvals:
        if approval.run_id not in runs:
            runs[approval.run_id] = runs_repo.get_run(session, approval.run_id)
        run = runs[approval.run_id]
        items.append(_item(approval, actor=actor, run_input=run.input if run else None,
                           outputs=run.outputs if run else None))
    return items


def pending_for(session: Session, *, actor: Actor) -> list[InboxItem]:
    """Pending approvals the member may see, newest first."""
    rows = approvals_repo.list_approvals(session, workspace_id=actor.workspace_id,
                                         limit=INBOX_LIMIT, status=ApprovalStatus.PENDING)
    return _shape(session, [a for a in rows if _visible(a, actor)], actor)


def count_pending_for(session: Session, *, actor: Actor) -> int:
    """How many pending approvals the member can decide (the sidebar badge)."""
    if not permissions.can(actor.role, permissions.DECIDE_APPROVALS):
        return 0
    rows = approvals_repo.list_approvals(session, workspace_id=actor.workspace_id,
                                         limit=INBOX_LIMIT, status=ApprovalStatus.PENDING)
    return sum(1 for a in rows if is_assignee(a, email=actor.email, role=actor.role))


def decided_for(session: Session, *, actor: Actor) -> list[InboxItem]:
    """Decided (or cancelled) approvals the member could see, newest first."""
    rows = approvals_repo.list_approvals(
        session, workspace_id=actor.workspace_id, limit=HISTORY_LIMIT * 4,
        status=",".join((ApprovalStatus.APPROVED, ApprovalStatus.REJECTED,
                         ApprovalStatus.CANCELLED)))
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
