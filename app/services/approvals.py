"""Approval use cases: who may decide, and the decision that moves the run on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app import wakeup
from app.clock import iso, utcnow
from app.engine import handover, progress
from app.engine.approval_policy import (
    REJECTED,
    Ballot,
    Policy,
    merged_fields,
    tally,
    timeout_outcome,
)
from app.engine.fields import FileLookup, file_ids, validate_data
from app.engine.progress import definition_of_version
from app.engine.transition import Decided, approval_result, decide
from app.errors import Conflict, FieldError, Forbidden, ValidationFailed, not_found
from app.models import (
    Actor,
    Approval,
    ApprovalStatus,
    ApprovalVote,
    Role,
    Run,
    StepRun,
    StepStatus,
)
from app.models.delegation import in_force
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import audit, steps
from app.repo import runs as runs_repo
from app.services import files
from app.services.runs import BeforeCommit, conflicts

DECISIONS = ("approved", "rejected")
DECIDE_SCOPE = "approvals:write"


def is_assignee(approval: Approval, *, email: str | None, role: str | None,
                now: datetime | None = None) -> bool:
    """Whether a member with this email and role may decide (admins always may; a delegate
    may, in the delegator's place, while the delegation is in force)."""
    if role == Role.ADMIN or delegation_to(approval, email, now) is not None:
        return True
    for assignee in approval.assignees:
        if assignee.startswith("role:") and role and assignee[5:] == role:
            return True
        target = assignee[5:] if assignee.startswith("user:") else assignee
        if email and "@" in target and target.lower() == email.lower():
            return True
    return False


def relation(approval: Approval, *, email: str | None, role: str | None,
             ref: str | None, now: datetime | None = None) -> str:
    """How a member stands to an approval, for the inbox tabs and the sidebar badge:
    `delegated` (handed to them), `handed_on` (they delegated their vote), `mine` (assigned
    by name), `team` (through a role, or as an admin), or "" (none of these)."""
    if delegation_to(approval, email, now) is not None:
        return "delegated"
    if handed_on_by(approval, ref, now) is not None:
        return "handed_on"
    for assignee in approval.assignees:
        target = assignee[5:] if assignee.startswith("user:") else assignee
        if email and "@" in target and target.lower() == email.lower():
            return "mine"
    if role == Role.ADMIN or any(a.startswith("role:") and role and a[5:] == role
                                 for a in approval.assignees):
        return "team"
    return ""


def delegations_in_force(approval: Approval,
                         now: datetime | None = None) -> list[dict[str, Any]]:
    """The approval's hand-overs that hold at `now` (an out-of-office one only within its
    range)."""
    at = now or utcnow()
    return [d for d in approval.delegations or () if in_force(d, at)]


def delegation_to(approval: Approval, email: str | None,
                  now: datetime | None = None) -> dict[str, Any] | None:
    """The delegation in force that hands this approval's vote to the member with `email`."""
    if not email or not approval.delegations:
        return None
    return next((d for d in delegations_in_force(approval, now)
                 if str(d.get("to_email", "")).lower() == email.lower()), None)


def handed_on_by(approval: Approval, ref: str | None,
                 now: datetime | None = None) -> dict[str, Any] | None:
    """The delegation in force by which the voter `ref` handed their vote on."""
    if ref is None or not approval.delegations:
        return None
    return next((d for d in delegations_in_force(approval, now) if d.get("from") == ref), None)


def acting_ref(approval: Approval, actor: Actor, now: datetime | None = None) -> str | None:
    """Whose vote the actor casts on this approval: the delegator's when it was handed to
    them, otherwise their own."""
    handed = delegation_to(approval, actor.email, now) if actor.is_user else None
    return str(handed["from"]) if handed is not None else actor.ref


def _voting_as(approval: Approval, actor: Actor,
               now: datetime) -> tuple[str, str, str | None, str | None]:
    """(voter, label, email, role) of the vote the actor casts: their own, or the one of
    whoever delegated it to them (counted as the delegator's in the policy)."""
    handed = delegation_to(approval, actor.email, now) if actor.is_user else None
    if handed is not None and (actor.ref is None or actor.ref != handed.get("from")):
        label = f"{actor.display} for {handed.get('from_label', '')}"[:320]
        return (str(handed["from"]), label, handed.get("from_email"), handed.get("from_role"))
    voter = actor.ref or f"{actor.type}:{actor.display}"
    if handed_on_by(approval, voter, now) is not None:
        raise Conflict("You delegated this approval; the delegate decides in your place")
    return voter, actor.display, actor.email, actor.role


def _ballot(vote: ApprovalVote) -> Ballot:
    return Ballot(voter=vote.voter, label=vote.label, decision=vote.decision, email=vote.email,
                  role=vote.role, comment=vote.comment, fields=dict(vote.fields or {}),
                  via=vote.via, at=vote.created_at)


def vote_summary(vote: ApprovalVote | Ballot) -> dict[str, Any]:
    """A vote as the step's output and the API show it."""
    at = vote.created_at if isinstance(vote, ApprovalVote) else vote.at
    return {"by": vote.label, "decision": vote.decision, "comment": vote.comment or None,
            "fields": dict(vote.fields or {}), "via": vote.via, "at": iso(at)}


def _eligible_voters(session: Session, approval: Approval, policy: Policy,
                     requester: str | None, voted: set[str], now: datetime) -> int:
    """Who may still vote: members who are assignees (or admins) and active, and the live
    API keys that may decide; not those who voted, nor the requester unless allowed."""
    def counts(ref: str) -> bool:
        return ref not in voted and (ref != requester or policy.allow_requester)

    count = 0
    for membership, user in accounts_repo.members_of_workspace(session, approval.workspace_id):
        if (user.is_active and counts(f"user:{user.id}")
                and is_assignee(approval, email=user.email, role=membership.role, now=now)):
            count += 1
    keys = accounts_repo.live_key_ids_with_scope(session, approval.workspace_id,
                                                 DECIDE_SCOPE, now)
    return count + sum(1 for key_id in keys if counts(f"api_key:{key_id}"))


def _checked_vote(policy: Policy, *, decision: str, comment: str | None,
                  fields: dict[str, Any] | None,
                  lookup: FileLookup | None = None) -> dict[str, Any]:
    """The approver fields' clean values, or ValidationFailed naming each field."""
    if decision == REJECTED:
        if policy.require_comment_on_reject and not (comment or "").strip():
            raise ValidationFailed("A rejection needs a comment", errors=[FieldError(
                "comment", "is required to reject", "required")])
        return {}
    if fields is not None and not isinstance(fields, dict):
        raise ValidationFailed("The approver fields are invalid",
                               errors=[FieldError("fields", "must be a JSON object")])
    clean, problems = validate_data(list(policy.fields), fields or {}, files=lookup)
    if problems:
        raise ValidationFailed("Fill in the approver fields to approve", errors=[
            FieldError(f"fields.{p.field}", p.message, p.code) for p in problems])
    return clean


def decide_approval(
    session: Session,
    *,
    workspace_id: str,
    approval_id: str,
    decision: str,
    actor: Actor,
    comment: str | None = None,
    fields: dict[str, Any] | None = None,
    via: str = "api",
    before_commit: BeforeCommit[Approval] | None = None,
    now: datetime | None = None,
) -> Approval:
    """Vote to approve or reject; the approval's policy says when the votes decide the step
    (app/engine/approval_policy.py). A member acting must be an assignee (by email or role);
    the run's requester is refused unless the policy allows them; each voter votes once.
    `before_commit` sees the approval (decided or still pending) in the transaction; `now`
    (the clock by default) is when delegations are judged in force."""
    now = now or utcnow()
    if decision not in DECISIONS:
        raise ValidationFailed("Unknown decision", errors=[FieldError(
            "decision", f"must be one of {', '.join(DECISIONS)}")])
    found = approvals_repo.get_approval(session, approval_id, workspace_id=workspace_id)
    if found is None:
        raise not_found("approval", approval_id)
    if actor.is_user and not is_assignee(found, email=actor.email, role=actor.role, now=now):
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
    policy = Policy.of_json(approval.policy, approval.assignees)
    voter, label, email, role = _voting_as(approval, actor, now)
    if not policy.allow_requester and run.requester is not None and (
            run.requester in (voter, actor.ref)):
        raise Forbidden("You started this run, so someone else must decide its approval",
                        extra={"reason": "requester"})
    specs = list(policy.fields)
    lookup = files.lookup(session, workspace_id=workspace_id,
                          file_ids=file_ids(specs, fields if isinstance(fields, dict) else {}))
    clean = _checked_vote(policy, decision=decision, comment=comment, fields=fields,
                          lookup=lookup)
    files.attach(session, specs, clean, run_id=run.id)
    earlier = approvals_repo.votes_of(session, approval.id)
    if any(vote.voter == voter for vote in earlier):
        raise Conflict("You already voted on this approval" if label == actor.display
                       else "This vote was already cast")
    vote = ApprovalVote(workspace_id=approval.workspace_id, approval_id=approval.id,
                        voter=voter, label=label, email=email, role=role,
                        decision=decision, comment=comment or None, fields=clean, via=via,
                        created_at=now)
    approvals_repo.add_vote(session, vote)
    ballots = [*map(_ballot, earlier), _ballot(vote)]
    eligible = len(ballots) + _eligible_voters(session, approval, policy, run.requester,
                                               {b.voter for b in ballots}, now)
    outcome = tally(policy, ballots, eligible=eligible)
    wakeup.mark(session, wakeup.APPROVALS)
    details = {"run_id": run.id, "comment": comment or None, "decision": decision}
    if outcome is None:  # the policy waits for more votes
        audit.record(session, workspace_id=workspace_id, actor=actor, action="approval.voted",
                     resource_type="approval", resource_id=approval.id, details=details,
                     at_once=True)
        if before_commit is not None:
            before_commit(session, approval)
        session.commit()
        return approval
    return _settle(session, run=run, step=step, approval=approval, outcome=outcome,
                   ballots=ballots, policy=policy, actor=actor, details=details, now=now,
                   before_commit=before_commit)


def _settle(session: Session, *, run: Run, step: StepRun, approval: Approval, outcome: str,
            ballots: list[Ballot], policy: Policy, actor: Actor, details: dict[str, Any],
            now: datetime, before_commit: BeforeCommit[Approval] | None,
            to: str | None = None) -> Approval:
    """The votes (or its timeout: `actor` is then the system, `to` where it goes) decided
    the step: close the approval and move the run on."""
    deciding = [b for b in ballots if b.decision == outcome] or ballots
    approval.status = outcome if outcome in DECISIONS else ApprovalStatus.EXPIRED
    approval.comment = ballots[-1].comment if ballots else None
    approval.decided_by = (", ".join(dict.fromkeys(b.label for b in deciding))[:200]
                           or actor.display)
    approval.decided_at = now
    session.add(approval)
    definition = definition_of_version(session, run.workflow_version_id)
    result = approval_result(decision=outcome, by=approval.decided_by,
                             comment=approval.comment, approval_id=approval.id, now=now)
    result.update(mode=policy.mode, fields=merged_fields(ballots),
                  votes=[vote_summary(b) for b in ballots])
    with handover.begin() as hand, conflicts(hint="the approval's step is no longer waiting"):
        transition = decide(runs_repo.run_state(run), steps.step_state(step),
                            Decided(decision=outcome, result=result, to=to), definition,
                            now=now)
        progress.advance(session, transition, now=now, hand=hand)
        audit.record(session, workspace_id=approval.workspace_id, actor=actor,
                     action=f"approval.{outcome}"[:80], resource_type="approval",
                     resource_id=approval.id, details=details, at_once=True)
        if before_commit is not None:
            before_commit(session, approval)
        hand.commit(session)
    return approval


def time_out(session: Session, *, approval_id: str, now: datetime) -> Approval | None:
    """Its `due_in` passed: decide the approval as its `on_timeout` says (reject, approve, or
    go to a step), through the same path as votes. None when it no longer waits."""
    approval = approvals_repo.lock_approval(session, approval_id)
    if approval is None or approval.status != ApprovalStatus.PENDING:
        return None
    run = runs_repo.lock_run(session, approval.run_id)
    step = steps.get_step(session, approval.step_run_id)
    if run is None or step is None or step.status != StepStatus.WAITING:
        return None
    policy = Policy.of_json(approval.policy, approval.assignees)
    decision, to = timeout_outcome(policy)
    ballots = [_ballot(vote) for vote in approvals_repo.votes_of(session, approval.id)]
    actor = Actor.system("timeout")
    details = {"run_id": run.id, "on_timeout": policy.on_timeout, "due_at": iso(approval.due_at)}
    try:
        return _settle(session, run=run, step=step, approval=approval, outcome=decision,
                       ballots=ballots, policy=policy, actor=actor, details=details, now=now,
                       before_commit=None, to=to)
    except Conflict:
        session.rollback()  # the run moved on meanwhile (cancelled, say)
        return None
