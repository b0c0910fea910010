"""Approvals: the pending inbox of a user (direct or by role), history and lookups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, update
from sqlmodel import Session, col, or_, select

from app.models import Approval, ApprovalStatus, ApprovalVote
from app.repo.conditions import ENUM, TEXT, TIME, Attribute, Condition, apply

# What structured filters may name on an approval list.
APPROVAL_ATTRIBUTES = {
    "id": Attribute(Approval.id, TEXT),
    "status": Attribute(Approval.status, ENUM, ApprovalStatus.ALL),
    "run_id": Attribute(Approval.run_id, TEXT),
    "workflow_id": Attribute(Approval.workflow_id, TEXT),
    "workflow_title": Attribute(Approval.workflow_title, TEXT),
    "step_key": Attribute(Approval.step_key, TEXT),
    "decided_by": Attribute(Approval.decided_by, TEXT, nullable=True),
    "created_at": Attribute(Approval.created_at, TIME),
    "decided_at": Attribute(Approval.decided_at, TIME, nullable=True),
    "due_at": Attribute(Approval.due_at, TIME, nullable=True),
}


def get_approval(
    session: Session, approval_id: str, *, workspace_id: str | None = None
) -> Approval | None:
    approval = session.get(Approval, approval_id)
    if approval is None or (workspace_id is not None and approval.workspace_id != workspace_id):
        return None
    return approval


def lock_approval(session: Session, approval_id: str) -> Approval | None:
    query = select(Approval).where(Approval.id == approval_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


def approvals_of_step(session: Session, step_run_id: str) -> Sequence[Approval]:
    return session.exec(select(Approval).where(Approval.step_run_id == step_run_id)).all()


def pending_of_run(session: Session, run_id: str) -> Sequence[Approval]:
    query = select(Approval).where(
        Approval.run_id == run_id, Approval.status == ApprovalStatus.PENDING
    )
    return session.exec(query).all()


def list_approvals(
    session: Session,
    *,
    workspace_id: str,
    limit: int,
    status: str | None = None,
    run_id: str | None = None,
    workflow_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    before: tuple[datetime, str] | None = None,
    oldest_first: bool = False,
    assignee: str | None = None,
    delegated_to: str | None = None,
    overdue_at: datetime | None = None,
    offset: int = 0,
    conditions: Sequence[Condition] = (),
) -> Sequence[Approval]:
    """`assignee` (an email or `role:<name>`) and `delegated_to` (an email) match the JSON
    lists as text, case-insensitively, on SQLite and PostgreSQL alike; `overdue_at` keeps
    pending items due before it."""
    query = apply(select(Approval).where(Approval.workspace_id == workspace_id),
                  APPROVAL_ATTRIBUTES, conditions)
    if assignee:
        names = [assignee] if assignee.startswith("role:") else [assignee, f"user:{assignee}"]
        text = func.lower(cast(Approval.assignees, String))
        query = query.where(or_(*(text.like(f'%"{_like(name)}"%', escape="\\")
                                  for name in names)))
    if delegated_to:
        text = func.lower(cast(Approval.delegations, String))
        query = query.where(text.like(f'%"to_email": "{_like(delegated_to)}"%', escape="\\"))
    if overdue_at:
        query = query.where(Approval.status == ApprovalStatus.PENDING,
                            col(Approval.due_at).is_not(None),
                            col(Approval.due_at) < overdue_at)
    if status:
        query = query.where(col(Approval.status).in_(status.split(",")))
    if run_id:
        query = query.where(Approval.run_id == run_id)
    if workflow_id:
        query = query.where(Approval.workflow_id == workflow_id)
    if created_after:
        query = query.where(Approval.created_at >= created_after)
    if created_before:
        query = query.where(Approval.created_at < created_before)
    if before:
        at, ident = before
        older = (col(Approval.created_at) < at) | (
            (col(Approval.created_at) == at) & (col(Approval.id) < ident)
        )
        newer = (col(Approval.created_at) > at) | (
            (col(Approval.created_at) == at) & (col(Approval.id) > ident)
        )
        query = query.where(newer if oldest_first else older)
    if oldest_first:
        query = query.order_by(col(Approval.created_at), col(Approval.id))
    else:
        query = query.order_by(col(Approval.created_at).desc(), col(Approval.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


def count_overdue(session: Session, *, workspace_id: str, now: datetime) -> int:
    """Pending approvals of the workspace past their due time."""
    query = (select(func.count()).select_from(Approval)
             .where(Approval.workspace_id == workspace_id,
                    Approval.status == ApprovalStatus.PENDING,
                    col(Approval.due_at).is_not(None), col(Approval.due_at) < now))
    return int(session.exec(query).one())


def _like(value: str) -> str:
    """A value to match inside LIKE, lowercased, its wildcards escaped."""
    return value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def votes_of(session: Session, approval_id: str) -> list[ApprovalVote]:
    """An approval's votes, in the order they were cast."""
    query = (select(ApprovalVote).where(ApprovalVote.approval_id == approval_id)
             .order_by(col(ApprovalVote.created_at), col(ApprovalVote.id)))
    return list(session.exec(query).all())


def votes_of_many(session: Session, approval_ids: Sequence[str]) -> dict[str, list[ApprovalVote]]:
    """The votes of several approvals (one query), by approval id, in casting order."""
    found: dict[str, list[ApprovalVote]] = {approval_id: [] for approval_id in approval_ids}
    if not approval_ids:
        return found
    query = (select(ApprovalVote).where(col(ApprovalVote.approval_id).in_(list(approval_ids)))
             .order_by(col(ApprovalVote.created_at), col(ApprovalVote.id)))
    for vote in session.exec(query).all():
        found[vote.approval_id].append(vote)
    return found


def add_vote(session: Session, vote: ApprovalVote) -> None:
    """Insert a vote (IntegrityError when this voter already voted on the approval)."""
    session.add(vote)
    session.flush()


def due_timers(session: Session, now: datetime, limit: int) -> list[Approval]:
    """Pending approvals whose next timer is due, oldest first."""
    query = (select(Approval)
             .where(col(Approval.status) == ApprovalStatus.PENDING,
                    col(Approval.next_timer_at) <= now)
             .order_by(col(Approval.next_timer_at)).limit(limit))
    return list(session.exec(query.execution_options(populate_existing=True)).all())


def claim_timer(session: Session, approval_id: str, *, expected: datetime,
                values: dict[str, Any]) -> bool:
    """Take the due timer: only the transaction that still sees `expected` as the approval's
    next timer wins (compare-and-set), so no timer fires twice across processes."""
    statement = (update(Approval)
                 .where(col(Approval.id) == approval_id,
                        col(Approval.status) == ApprovalStatus.PENDING,
                        col(Approval.next_timer_at) == expected)
                 .values(**values).execution_options(synchronize_session=False))
    return session.exec(statement).rowcount == 1
