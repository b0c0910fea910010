"""Signed approval links: a capability URL bound to one approval and one approver.

The token (itsdangerous, salted, timestamped) names the approval, the approver and the
workspace. It expires after LINK_TTL_S, and it works once because the approval can be decided
once. Opening it only inspects (`inspect_link`); deciding is a separate call (`decide_by_link`)
that re-checks the approver is still a member allowed to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from app.clock import iso
from app.errors import Conflict, DomainError, Forbidden, NotFound, not_found
from app.models import Actor, Approval, ApprovalStatus, User
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import runs as runs_repo
from app.services import permissions
from app.services.approvals import decide_approval, is_assignee
from app.services.inbox import pretty_json
from app.settings import get_settings

LINK_TTL_S = 72 * 3600
LINK_PATH = "/approval-links"
_SALT = "flowdesk/approval-link/v1"


class Gone(DomainError):
    """The link expired (410): it can never work again."""

    status = 410
    code = "GONE"
    title = "Link expired"


@dataclass(frozen=True)
class LinkView:
    """What the confirmation page shows; `state` is 'open', 'decided' or 'cancelled'."""

    state: str
    approval_id: str
    approver_email: str
    workflow_title: str
    instructions: str
    run_input: str
    earlier_outputs: str
    due_at: str
    status: str
    decided_by: str
    decided_at: str
    comment: str


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT)


def _eligible(session: Session, approval: Approval, user: User) -> Actor | None:
    membership = accounts_repo.membership(session, workspace_id=approval.workspace_id,
                                          user_id=user.id)
    if membership is None or not user.is_active:
        return None
    actor = Actor.user(user_id=user.id, email=user.email, role=membership.role,
                       workspace_id=approval.workspace_id)
    if not permissions.can(actor.role, permissions.DECIDE_APPROVALS):
        return None
    if not is_assignee(approval, email=user.email, role=membership.role):
        return None
    return actor


def eligible_approvers(session: Session, *, actor: Actor, approval_id: str) -> list[dict]:
    """Whom `actor` may make a link for: any eligible approver (admins), else themselves."""
    approval = approvals_repo.get_approval(session, approval_id, workspace_id=actor.workspace_id)
    if approval is None:
        raise not_found("approval", approval_id)
    out = []
    for membership, user in accounts_repo.members_of_workspace(session, actor.workspace_id):
        if user.id != actor.id and not permissions.can(
                actor.role, permissions.SHARE_APPROVAL_LINKS):
            continue
        if _eligible(session, approval, user) is not None:
            out.append({"user_id": user.id, "email": user.email, "role": membership.role})
    return out


def make_link_token(session: Session, *, actor: Actor, approval_id: str,
                    approver_user_id: str) -> str:
    """A signed token for `approver_user_id` to decide `approval_id` without signing in."""
    if approver_user_id != actor.id:
        permissions.require(actor.role, permissions.SHARE_APPROVAL_LINKS)
    approval = approvals_repo.get_approval(session, approval_id, workspace_id=actor.workspace_id)
    if approval is None:
        raise not_found("approval", approval_id)
    if approval.status != ApprovalStatus.PENDING:
        raise Conflict(f"This approval was already {approval.status}; no link is needed")
    user = session.get(User, approver_user_id)
    if user is None or _eligible(session, approval, user) is None:
        raise Forbidden("That person cannot decide this approval")
    return token_for(approval, user.id)


def token_for(approval: Approval, user_id: str) -> str:
    """The signed token itself, for a caller that has checked who may have it (the mailer
    sends one to each assignee it emails)."""
    return str(_serializer().dumps({"a": approval.id, "u": user_id, "w": approval.workspace_id}))


def link_url(token: str, base_url: str = "") -> str:
    return f"{base_url.rstrip('/')}{LINK_PATH}/{token}"


def _open(session: Session, token: str) -> tuple[Approval, User]:
    try:
        claims = _serializer().loads(token, max_age=LINK_TTL_S)
    except SignatureExpired as exc:
        raise Gone("This approval link has expired; ask for a new one") from exc
    except BadSignature as exc:
        raise NotFound("This approval link is not valid") from exc
    approval = approvals_repo.get_approval(session, str(claims.get("a")),
                                           workspace_id=str(claims.get("w")))
    user = session.get(User, str(claims.get("u")))
    if approval is None or user is None:
        raise NotFound("This approval link is not valid")
    return approval, user


def inspect_link(session: Session, *, token: str) -> LinkView:
    """What the link is for; never changes anything (a GET, a link preview, a scanner)."""
    approval, user = _open(session, token)
    run = runs_repo.get_run(session, approval.run_id)
    outputs = {k: v for k, v in ((run.outputs if run else None) or {}).items()
               if k != approval.step_key}
    state = {ApprovalStatus.PENDING: "open", ApprovalStatus.CANCELLED: "cancelled"}.get(
        approval.status, "decided")
    return LinkView(
        state=state, approval_id=approval.id, approver_email=user.email,
        workflow_title=approval.workflow_title or approval.workflow_id,
        instructions=approval.instructions or "", run_input=pretty_json(run.input if run else None),
        earlier_outputs=pretty_json(outputs), due_at=iso(approval.due_at) or "",
        status=approval.status, decided_by=approval.decided_by or "",
        decided_at=iso(approval.decided_at) or "", comment=approval.comment or "",
    )


def decide_by_link(session: Session, *, token: str, decision: str,
                   comment: str | None = None,
                   fields: dict[str, Any] | None = None) -> Approval:
    """Decide as the link's approver; a used, expired or no-longer-allowed link is refused."""
    approval, user = _open(session, token)
    if approval.status != ApprovalStatus.PENDING:
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        raise Conflict(f"This link was already used: the approval was {approval.status}{by}")
    actor = _eligible(session, approval, user)
    if actor is None:
        raise Forbidden(f"{user.email} can no longer decide this approval")
    return decide_approval(session, workspace_id=approval.workspace_id, approval_id=approval.id,
                           decision=decision, actor=actor.with_request("approval-link"),
                           comment=comment, fields=fields, via="link")
