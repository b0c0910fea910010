"""Approval use cases: who may decide, and the decision that moves the run on."""

from __future__ import annotations

from sqlmodel import Session

from app import wakeup
from app.clock import utcnow
from app.engine import handover, progress
from app.engine.progress import definition_of_version
from app.engine.transition import Decided, approval_result, decide
from app.errors import Conflict, FieldError, Forbidden, ValidationFailed, not_found
from app.models import Actor, Approval, ApprovalStatus, Role, StepStatus
from app.repo import approvals as approvals_repo
from app.repo import audit, steps
from app.repo import runs as runs_repo
from app.services.runs import BeforeCommit, conflicts

DECISIONS = ("approved", "rejected")


def is_assignee(approval: Approval, *, email: str | None, role: str | None) -> bool:
    """Whether a member with this email and role may decide (admins always may)."""
    if role == Role.ADMIN:
        return True
    for assignee in approval.assignees:
        if assignee.startswith("role:") and role and assignee[5:] == role:
            return True
        target = assignee[5:] if assignee.startswith("user:") else assignee
        if email and "@" in target and target.lower() == email.lower():
            return True
    return False


def decide_approval(
    session: Session,
    *,
    workspace_id: str,
    approval_id: str,
    decision: str,
    actor: Actor,
    comment: str | None = None,
    before_commit: BeforeCommit[Approval] | None = None,
) -> Approval:
    """Approve or reject; a member acting must be an assignee (by email or role).
    `before_commit` sees the decided approval in the transaction."""
    if decision not in DECISIONS:
        raise ValidationFailed("Unknown decision", errors=[FieldError(
            "decision", f"must be one of {', '.join(DECISIONS)}")])
    found = approvals_repo.get_approval(session, approval_id, workspace_id=workspace_id)
    if found is None:
        raise not_found("approval", approval_id)
    if actor.is_user and not is_assignee(found, email=actor.email, role=actor.role):
        raise Forbidden("You are not an assignee of this approval")
    run = runs_repo.lock_run(session, found.run_id)
    approval = approvals_repo.lock_approval(session, approval_id)
    assert run is not None and approval is not None
    if approval.status != ApprovalStatus.PENDING:
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        raise Conflict(f"This approval was already {approval.status}{by}")
    step = steps.get_step(session, approval.step_run_id)
    if step is None or step.status != StepStatus.WAITING:
        raise Conflict("The approval's step is no longer waiting")
    now = utcnow()
    approval.status = decision
    approval.comment = comment or None
    approval.decided_by = actor.display
    approval.decided_at = now
    session.add(approval)
    wakeup.mark(session, wakeup.APPROVALS)
    definition = definition_of_version(session, run.workflow_version_id)
    result = approval_result(decision=decision, by=actor.display, comment=comment,
                             approval_id=approval.id, now=now)
    with handover.begin() as hand, conflicts(hint="the approval's step is no longer waiting"):
        transition = decide(runs_repo.run_state(run), steps.step_state(step),
                            Decided(decision=decision, result=result), definition, now=now)
        progress.advance(session, transition, now=now, hand=hand)
        audit.record(session, workspace_id=workspace_id, actor=actor,
                     action=f"approval.{decision}", resource_type="approval",
                     resource_id=approval.id,
                     details={"run_id": run.id, "comment": comment or None}, at_once=True)
        if before_commit is not None:
            before_commit(session, approval)
        hand.commit(session)
    return approval
