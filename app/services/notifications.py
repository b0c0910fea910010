"""Who is emailed about an approval event: the mailer turns each event that sends email
(`Event.mail_pending`, set in the transaction of the change) into one outbox row per
recipient, in one transaction per event, so a crash loses none and makes none twice.

- approval.created, approval.reassigned → each assignee (named, or through their role) and
  each delegate, but never the requester a policy refuses;
- approval.reminded → those of them who have not voted yet;
- approval.escalated → the members the escalation added;
- approval.delegated → the delegate;
- approval.decided → the requester: the signed-in user who started the run, or the email
  field of the form that started it.

Each member's preference applies: `all`, `named` (only items that name them, or are
delegated to them, and decisions of their own requests) or `none`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.clock import utcnow
from app.engine.approval_policy import Policy
from app.models import (
    Approval,
    ApprovalStatus,
    EmailKind,
    EmailStatus,
    Event,
    Run,
    Trigger,
    User,
    new_id,
)
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import emails as emails_repo
from app.repo import forms as forms_repo
from app.services import permissions
from app.services.approvals import delegation_to, handed_on_by, relation

KINDS = {
    "approval.created": EmailKind.NEW_ITEM,
    "approval.reassigned": EmailKind.NEW_ITEM,
    "approval.reminded": EmailKind.REMINDER,
    "approval.escalated": EmailKind.ESCALATION,
    "approval.delegated": EmailKind.DELEGATED,
    "approval.decided": EmailKind.DECISION,
}
BATCH = 50


class Preference:
    ALL = "all"
    NAMED = "named"
    NONE = "none"
    CHOICES = (ALL, NAMED, NONE)


@dataclass(frozen=True)
class Recipient:
    email: str
    user_id: str | None  # None: an address typed into a form
    named: bool  # the item names them (or was handed to them), not only their role
    role: str | None = None
    delegate: bool = False  # asked because a delegation hands them the item


def expand_pending(session: Session, *, message_id: Any, now: datetime | None = None) -> int:
    """Turn up to BATCH pending events into outbox rows; the number of events handled.
    `message_id(email_id)` makes each row's Message-ID."""
    handled = 0
    for event in emails_repo.events_to_mail(session, limit=BATCH):
        if not emails_repo.take_event(session, event.id):
            session.rollback()  # another process took it
            continue
        rows = [_row(event, kind, recipient, message_id, now or utcnow())
                for kind, recipient in _recipients_of(session, event)]
        emails_repo.add_emails(session, rows)
        session.commit()
        handled += 1
    return handled


def _row(event: Event, kind: str, recipient: Recipient, message_id: Any,
         now: datetime) -> dict[str, Any]:
    email_id = new_id("eml")
    data = (event.payload or {}).get("data") or {}
    return {"id": email_id, "workspace_id": event.workspace_id, "event_id": event.id,
            "kind": kind, "approval_id": data.get("approval_id"), "run_id": event.run_id,
            "user_id": recipient.user_id, "to_addr": recipient.email,
            "message_id": message_id(email_id), "subject": "", "status": EmailStatus.PENDING,
            "attempts": 0, "next_attempt_at": now, "lease_until": None, "last_error": None,
            "created_at": now, "sent_at": None}


def _recipients_of(session: Session, event: Event) -> list[tuple[str, Recipient]]:
    kind = KINDS.get(event.type)
    data = (event.payload or {}).get("data") or {}
    approval = approvals_repo.get_approval(session, str(data.get("approval_id", "")),
                                           workspace_id=event.workspace_id)
    if kind is None or approval is None:
        return []
    run = session.get(Run, approval.run_id)
    if kind == EmailKind.DECISION:
        found = requester_of(session, run) if run is not None else None
        return [(kind, found)] if found is not None else []
    if approval.status != ApprovalStatus.PENDING:
        return []  # decided before the mailer came to it: nothing to act on
    people = assignees_to_mail(session, approval, run)
    if event.type == "approval.created":
        # a new item handed on at once (its assignee is out of office) reaches the delegate
        # by the approval.delegated event of the same change: one email, saying why
        people = [p for p in people if not p.delegate]
    elif kind == EmailKind.REMINDER:
        voted = {vote.voter for vote in approvals_repo.votes_of(session, approval.id)}
        people = [p for p in people if f"user:{p.user_id}" not in voted
                  and _delegator_of(approval, p.email) not in voted]
    elif kind == EmailKind.ESCALATION:
        added = {str(a).lower() for a in data.get("escalated_to") or ()}
        people = [p for p in people if _matches(p, added)]
    elif kind == EmailKind.DELEGATED:
        to = str(data.get("to", "")).lower()
        people = [p for p in people if p.email.lower() == to]
    return [(kind, p) for p in people]


def assignees_to_mail(session: Session, approval: Approval, run: Run | None) -> list[Recipient]:
    """The members an item asks to act, with their preference applied: named assignees,
    members of assigned roles, and delegates; not those who handed their vote on, nor the
    requester when the policy refuses them."""
    policy = Policy.of_json(approval.policy, approval.assignees)
    requester = run.requester if run is not None else None
    out: list[Recipient] = []
    for membership, user in accounts_repo.members_of_workspace(session, approval.workspace_id):
        ref = f"user:{user.id}"
        if not user.is_active or not permissions.can(membership.role,
                                                     permissions.DECIDE_APPROVALS):
            continue
        if handed_on_by(approval, ref) is not None or (ref == requester
                                                       and not policy.allow_requester):
            continue
        stands = relation(approval, email=user.email, role=None, ref=None)
        named = stands in ("mine", "delegated")
        by_role = f"role:{membership.role}" in approval.assignees
        if (named or by_role) and _wants(user, named=named):
            out.append(Recipient(email=user.email, user_id=user.id, named=named,
                                 role=membership.role, delegate=stands == "delegated"))
    return out


def requester_of(session: Session, run: Run) -> Recipient | None:
    """Whom to tell the outcome: the signed-in user who started the run (their preference
    applies), or the email field of the form that started it."""
    if run.requester and run.requester.startswith("user:"):
        user = session.get(User, run.requester[5:])
        if user is None or not user.is_active or not _wants(user, named=True):
            return None
        return Recipient(email=user.email, user_id=user.id, named=True)
    if run.trigger != Trigger.FORM:
        return None
    found = forms_repo.submission_of_run(session, run.id)
    if found is None:
        return None
    submission, form = found
    for spec in form.fields or ():
        value = (submission.data or {}).get(spec.get("name", ""))
        if spec.get("type") == "email" and isinstance(value, str) and "@" in value:
            return Recipient(email=value.strip(), user_id=None, named=True)
    return None


def _wants(user: User, *, named: bool) -> bool:
    choice = user.email_notifications or Preference.ALL
    return choice == Preference.ALL or (choice == Preference.NAMED and named)


def _delegator_of(approval: Approval, email: str) -> str | None:
    handed = delegation_to(approval, email)
    return str(handed["from"]) if handed is not None else None


def _matches(person: Recipient, added: set[str]) -> bool:
    """Whether an escalation's `added` list (emails, user:…, role:…) names this person."""
    return bool({person.email.lower(), f"user:{person.email.lower()}",
                 f"role:{person.role}"} & added)
