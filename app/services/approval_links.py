"""Signed approval links: a capability URL bound to one approval and one approver.

The token (itsdangerous, salted, timestamped) names the approval, the approver and the
workspace. It expires after LINK_TTL_S, and it is single-use per voter: once the approver's
vote (or the one they cast for whoever delegated to them) is in, or the approval is decided,
it only says so. In `all` or `quorum` mode the approval may still wait for others then.
Opening it only inspects (`inspect_link`); voting is a separate call (`decide_by_link`)
that re-checks the approver is still a member allowed to decide.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from app.clock import as_utc, iso, utcnow
from app.engine.approval_policy import ANY, Policy, progress
from app.engine.fields import FieldSpec
from app.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
    not_found,
)
from app.models import Actor, Approval, ApprovalStatus, ApprovalVote, Run, StoredFile, User
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import runs as runs_repo
from app.services import files, permissions
from app.services.approvals import (
    acting_ref,
    decide_approval,
    delegation_to,
    is_assignee,
    relation,
)
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
    """What the confirmation page shows. `state`: 'open' (the form), 'voted' (the link's
    approver, or whoever they vote for, has voted; the approval waits for others),
    'handed_on' (they delegated their vote), 'refused' (they may not vote), 'decided' or
    'cancelled'; `note` says why there is no form."""

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
    note: str = ""
    overdue: bool = False
    acting_for: str = ""  # whose vote the approver casts when it was delegated to them
    # the policy and the votes so far
    mode: str = ANY
    progress: str = ""  # "1 of 2 approvals" (empty under `any`)
    fields: tuple[FieldSpec, ...] = ()  # approver fields to fill in to approve
    require_comment_on_reject: bool = False
    votes: tuple[dict[str, str], ...] = ()  # by, decision, at
    my_vote: str = ""  # the decision of the link's vote, once cast
    my_vote_at: str = ""


@dataclass(frozen=True)
class _Standing:
    """Where the link's approver stands: the state, the vote cast for them, the actor they
    decide as (None when they may not), the page's note and the refusal a POST gets."""

    state: str
    run: Run | None
    votes: list[ApprovalVote]
    policy: Policy
    vote: ApprovalVote | None = None
    actor: Actor | None = None
    note: str = ""
    refusal: DomainError | None = None


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


def readable_time(value: str) -> str:
    """'2026-01-31T09:05:00.000Z' → '2026-01-31 09:05 UTC' (the page has no script)."""
    return f"{value[:10]} {value[11:16]} UTC" if len(value) >= 16 else value


def _standing(session: Session, approval: Approval, user: User) -> _Standing:
    """What the link may still do: the same checks for the page (GET) and the vote (POST),
    so a page that offers the form is one whose POST can record a vote."""
    run = runs_repo.get_run(session, approval.run_id)
    votes = approvals_repo.votes_of(session, approval.id)
    policy = Policy.of_json(approval.policy, approval.assignees)
    me = Actor.user(user_id=user.id, email=user.email, workspace_id=approval.workspace_id)
    voter = acting_ref(approval, me)
    vote = next((v for v in votes if v.voter == voter), None)
    seen = _Standing("open", run=run, votes=votes, policy=policy, vote=vote)

    def closed(state: str, note: str, refusal: DomainError) -> _Standing:
        return replace(seen, state=state, note=note, refusal=refusal)

    if approval.status != ApprovalStatus.PENDING:
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        used = f"This link was already used: the approval was {approval.status}{by}"
        if approval.status == ApprovalStatus.CANCELLED:
            return closed("cancelled", "This approval was cancelled (the run was stopped); "
                          "nothing is left to decide.", Conflict(used))
        return closed("decided", f"{used}.", Conflict(used))
    if vote is not None:
        mine = vote.label.lower() == user.email.lower()
        cast = f"voted {vote.decision} on {readable_time(iso(vote.created_at) or '')}"
        return closed("voted", f"{'You' if mine else vote.label} already {cast}.",
                      Conflict(f"This link was already used: {'you' if mine else vote.label} "
                               f"{cast}"))
    if relation(approval, email=user.email, role=None, ref=me.ref) == "handed_on":
        to = next(d.get("to_email", "") for d in approval.delegations if d.get("from") == me.ref)
        handed = f"You delegated this approval to {to}; they decide in your place"
        return closed("handed_on", f"{handed}.", Conflict(handed))
    actor = _eligible(session, approval, user)
    if actor is None:
        gone = f"{user.email} can no longer decide this approval"
        return closed("refused", f"{gone}.", Forbidden(gone))
    if not policy.allow_requester and run is not None and run.requester is not None and (
            run.requester in (voter, actor.ref)):
        requester = "You started this run, so someone else must decide its approval"
        return closed("refused", f"{requester}.",
                      Forbidden(requester, extra={"reason": "requester"}))
    return replace(seen, actor=actor)


def inspect_link(session: Session, *, token: str) -> LinkView:
    """What the link is for; never changes anything (a GET, a link preview, a scanner)."""
    approval, user = _open(session, token)
    standing = _standing(session, approval, user)
    run, policy, vote = standing.run, standing.policy, standing.vote
    outputs = {k: v for k, v in ((run.outputs if run else None) or {}).items()
               if k != approval.step_key}
    handed = delegation_to(approval, user.email)
    pending = approval.status == ApprovalStatus.PENDING
    return LinkView(
        state=standing.state, approval_id=approval.id, approver_email=user.email,
        workflow_title=approval.workflow_title or approval.workflow_id,
        instructions=approval.instructions or "", run_input=pretty_json(run.input if run else None),
        earlier_outputs=pretty_json(outputs), due_at=iso(approval.due_at) or "",
        status=approval.status, decided_by=approval.decided_by or "",
        decided_at=iso(approval.decided_at) or "", comment=approval.comment or "",
        note=standing.note,
        overdue=bool(pending and approval.due_at and as_utc(approval.due_at) < utcnow()),
        acting_for=str(handed.get("from_label", "")) if handed else "",
        mode=policy.mode, progress=progress(policy, [v.decision for v in standing.votes]),
        fields=policy.fields, require_comment_on_reject=policy.require_comment_on_reject,
        votes=tuple({"by": v.label, "decision": v.decision, "at": iso(v.created_at) or ""}
                    for v in standing.votes),
        my_vote=vote.decision if vote else "",
        my_vote_at=(iso(vote.created_at) or "") if vote else "",
    )


def decide_by_link(session: Session, *, token: str, decision: str,
                   comment: str | None = None,
                   fields: dict[str, Any] | None = None) -> Approval:
    """Vote as the link's approver. Refused when the link is used up (the approval was
    decided or cancelled, or this approver's vote, or the one they cast for someone, is
    in), expired, handed on, or its approver may no longer decide."""
    approval, user = _open(session, token)
    standing = _standing(session, approval, user)
    if standing.refusal is not None:
        raise standing.refusal
    assert standing.actor is not None
    return decide_approval(session, workspace_id=approval.workspace_id, approval_id=approval.id,
                           decision=decision, actor=standing.actor.with_request("approval-link"),
                           comment=comment, fields=fields, via="link")


def upload_by_link(session: Session, *, token: str, field_name: str, name: str | None,
                   data: bytes) -> StoredFile:
    """Store a file the link's approver sends for an approver file field, within that
    field's limits; refused as deciding would be when the link can no longer decide."""
    approval, user = _open(session, token)
    standing = _standing(session, approval, user)
    if standing.refusal is not None:
        raise standing.refusal
    assert standing.actor is not None
    spec = next((f for f in standing.policy.fields
                 if f.name == field_name and f.type == "file"), None)
    if spec is None:
        raise ValidationFailed("Unknown file field", errors=[FieldError(
            f"fields.{field_name}", "this approval has no such file field", "unknown_field")])
    return files.upload_for_field(session, actor=standing.actor, spec=spec, name=name,
                                  data=data, field_path=f"fields.{field_name}")
