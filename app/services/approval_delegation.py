"""Handing approvals on: an assignee delegates their vote to a colleague, an admin
reassigns a pending item. Both are recorded (audit, `approval.delegated` /
`approval.reassigned` events) and show at once in the inboxes."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from sqlmodel import Session

from app import wakeup
from app.clock import iso, utcnow
from app.engine.approval_policy import Policy
from app.engine.definition import ApprovalStep
from app.errors import Conflict, FieldError, Forbidden, ValidationFailed, not_found
from app.models import Actor, Approval, ApprovalStatus, Membership, User
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import audit, events
from app.repo import runs as runs_repo
from app.services import permissions
from app.services.approvals import delegation_to, handed_on_by, is_assignee


def _pending(session: Session, actor: Actor, approval_id: str) -> Approval:
    found = approvals_repo.get_approval(session, approval_id, workspace_id=actor.workspace_id)
    if found is None:
        raise not_found("approval", approval_id)
    approval = approvals_repo.lock_approval(session, approval_id)
    assert approval is not None
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"This approval was already {approval.status}")
    return approval


def emit_about(session: Session, approval: Approval, type: str,
               data: dict[str, object]) -> None:
    """An event about the approval (its ids in `data`), and the inboxes woken."""
    events.emit(session, type=type, workspace_id=approval.workspace_id, run_id=approval.run_id,
                workflow_id=approval.workflow_id,
                data={"approval_id": approval.id, "step_key": approval.step_key,
                      "step_id": approval.step_run_id, **data})
    wakeup.mark(session, wakeup.APPROVALS)


def _member(session: Session, workspace_id: str, email: str) -> tuple[Membership, User] | None:
    return next(((m, u) for m, u in accounts_repo.members_of_workspace(session, workspace_id)
                 if u.email.lower() == email), None)


def delegate(session: Session, *, actor: Actor, approval_id: str, to_email: str,
             from_email: str | None = None) -> Approval:
    """An assignee who has not voted hands their vote on the approval to another member who
    may decide approvals; the delegate then votes in their place. A signed-in member hands
    their own vote; an API key (a chat bot, a portal) names the assignee in `from_email`."""
    email = (to_email or "").strip().lower()
    by = actor
    if not actor.is_user:
        giver = _member(session, actor.workspace_id or "", (from_email or "").strip().lower())
        if giver is None or not giver[1].is_active:
            raise ValidationFailed("The delegator is not valid", errors=[FieldError(
                "from", f"{from_email or '(missing)'} is not an active member of this "
                        "workspace (an API key delegates for a named assignee)")])
        actor = Actor.user(user_id=giver[1].id, email=giver[1].email, role=giver[0].role,
                           workspace_id=actor.workspace_id, request_id=actor.request_id)
    approval = _pending(session, actor, approval_id)
    if not is_assignee(approval, email=actor.email, role=actor.role) or delegation_to(
            approval, actor.email) is not None:
        raise Forbidden(f"{actor.display} is not an assignee of this approval, so cannot "
                        "delegate it")
    if handed_on_by(approval, actor.ref) is not None:
        raise Conflict("You already delegated this approval")
    if any(vote.voter == actor.ref for vote in approvals_repo.votes_of(session, approval.id)):
        raise Conflict("You already voted on this approval")
    target = _member(session, approval.workspace_id, email)
    problem = None
    if target is None or not target[1].is_active:
        problem = "is not an active member of this workspace"
    elif not permissions.can(target[0].role, permissions.DECIDE_APPROVALS):
        problem = f"has the role {target[0].role}, which cannot decide approvals"
    elif email == (actor.email or "").lower():
        problem = "is you"
    elif delegation_to(approval, email) is not None:
        problem = "already decides this approval for someone else"
    else:
        run = runs_repo.get_run(session, approval.run_id)
        policy = Policy.of_json(approval.policy, approval.assignees)
        if (run is not None and not policy.allow_requester
                and run.requester == f"user:{target[1].id}"):
            problem = "started this run, so cannot decide it"
    if problem or target is None:
        raise ValidationFailed("The delegate is not valid",
                               errors=[FieldError("to", f"{to_email} {problem}")])
    user = target[1]
    now = utcnow()
    handed = {"from": actor.ref, "from_label": actor.display, "from_email": actor.email,
              "from_role": actor.role, "to_email": user.email, "to_user_id": user.id,
              "by": by.display, "at": iso(now)}
    approval.delegations = [*(approval.delegations or []), handed]
    session.add(approval)
    audit.record(session, workspace_id=approval.workspace_id, actor=by,
                 action="approval.delegated", resource_type="approval",
                 resource_id=approval.id, details={"to": user.email})
    emit_about(session, approval, "approval.delegated",
               {"from": actor.display, "to": user.email, "assignees": list(approval.assignees)})
    session.commit()
    return approval


def delegate_choices(session: Session, *, actor: Actor, approval_id: str) -> list[str]:
    """The emails `actor` may delegate the approval to: active members who may decide
    approvals, other than themselves."""
    approval = approvals_repo.get_approval(session, approval_id, workspace_id=actor.workspace_id)
    if approval is None:
        raise not_found("approval", approval_id)
    return [user.email for membership, user in accounts_repo.members_of_workspace(
        session, approval.workspace_id)
        if user.is_active and user.email.lower() != (actor.email or "").lower()
        and permissions.can(membership.role, permissions.DECIDE_APPROVALS)]


def reassign(session: Session, *, actor: Actor, approval_id: str,
             assignees: Sequence[str]) -> Approval:
    """An admin replaces a pending approval's assignees (votes already cast stay)."""
    if actor.is_user and actor.role != "admin":
        raise Forbidden("Only an admin can reassign an approval")
    cleaned = [a.strip() for a in assignees if isinstance(a, str) and a.strip()]
    try:
        ApprovalStep.model_validate({"assignees": cleaned, "done": True})
    except ValidationError as exc:
        errors = [FieldError(".".join(str(p) for p in e["loc"]),
                             str(e["msg"]).removeprefix("Value error, "))
                  for e in exc.errors(include_url=False)]
        raise ValidationFailed("The assignees are not valid", errors=errors) from None
    approval = _pending(session, actor, approval_id)
    before = list(approval.assignees)
    approval.assignees = list(dict.fromkeys(cleaned))
    session.add(approval)
    audit.record(session, workspace_id=approval.workspace_id, actor=actor,
                 action="approval.reassigned", resource_type="approval",
                 resource_id=approval.id, details={"from": before, "to": approval.assignees})
    emit_about(session, approval, "approval.reassigned",
               {"from": before, "assignees": list(approval.assignees), "by": actor.display})
    session.commit()
    return approval
