"""Sending the email outbox: lease a due row, build its message from the item as it is now,
send it outside any transaction, record the outcome.

A row is sent at least once and, since it is leased while sending and recorded after, at
most a few times (a crash between the server's OK and our record sends it again, with the
same Message-ID). A failure waits RETRY_DELAYS_S (scaled by MAIL_RETRY_SCALE) and tries again;
after the last it is `failed`. An item decided before its email went out is `skipped`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.clock import utcnow
from app.engine.approval_policy import Policy, progress
from app.mail.render import Mail, build
from app.mail.sender import Sender
from app.mail.transport import SendFailed
from app.models import (
    Approval,
    ApprovalStatus,
    EmailKind,
    EmailStatus,
    OutboundEmail,
    Run,
    User,
    Workspace,
)
from app.models.actor import Actor
from app.models.delegation import is_out_of_office
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import emails as emails_repo
from app.services import permissions
from app.services.approval_links import link_url, token_for
from app.services.approvals import acting_ref, delegation_to, is_assignee

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800)
LEASE_S = 120.0
BATCH = 20
SUMMARY_ROWS = 12
VALUE_CHARS = 200

_HEADLINES = {
    EmailKind.NEW_ITEM: "Approval needed: {title}",
    EmailKind.REMINDER: "Reminder: still waiting for your approval: {title}",
    EmailKind.ESCALATION: "Escalated to you: {title}",
    EmailKind.DELEGATED: "Delegated to you: {title}",
}
_INTROS = {
    EmailKind.NEW_ITEM: "A run of {title} is waiting for your decision.",
    EmailKind.REMINDER: "A run of {title} is still waiting for your decision.",
    EmailKind.ESCALATION: "Nobody decided this item in time, so it was escalated to you. "
                          "The original approvers can still decide it too.",
    EmailKind.DELEGATED: "{by} delegated this item to you: you decide in their place.",
}


class Skip(Exception):
    """Not worth sending any more; the message says why."""


def send_due(session: Session, sender: Sender, *, public_url: str,
             retry_scale: float = 1.0, now: datetime | None = None) -> int:
    """Send up to BATCH due emails; the number attempted."""
    now = now or utcnow()
    attempted = 0
    for email_id in emails_repo.due_ids(session, now=now, limit=BATCH):
        held_until = now + timedelta(seconds=LEASE_S)
        if not emails_repo.lease(session, email_id, now=now, until=held_until):
            session.rollback()
            continue
        session.commit()
        attempted += 1
        values = _attempt(session, sender, email_id, public_url=public_url,
                          retry_scale=retry_scale)
        if not emails_repo.finish(session, email_id, held_until=held_until, values=values):
            log.warning("email %s: lease lost before its outcome was recorded", email_id)
        session.commit()
    return attempted


def _attempt(session: Session, sender: Sender, email_id: str, *, public_url: str,
             retry_scale: float) -> dict[str, Any]:
    row = session.get(OutboundEmail, email_id)
    assert row is not None
    attempts, to_addr = row.attempts + 1, row.to_addr
    try:
        mail, secret = compose(session, row, public_url=public_url)
    except Skip as why:
        return {"status": EmailStatus.SKIPPED, "last_error": str(why)[:1000],
                "attempts": row.attempts}
    message = build(mail, to=to_addr, mail_from=sender.mail_from, msg_id=row.message_id,
                    date=utcnow())
    session.rollback()  # no transaction held across the network
    try:
        sent = sender.deliver(message, hide=(secret,))
    except SendFailed as exc:
        last = exc.permanent or attempts > len(RETRY_DELAYS_S)
        delay = RETRY_DELAYS_S[min(attempts, len(RETRY_DELAYS_S)) - 1] * retry_scale
        log.warning("email %s to %s failed (attempt %d%s): %s", email_id, _masked(to_addr),
                    attempts, ", giving up" if last else "", exc)
        return {"status": EmailStatus.FAILED if last else EmailStatus.PENDING,
                "attempts": attempts, "last_error": str(exc)[:1000], "subject": mail.subject,
                "next_attempt_at": utcnow() + timedelta(seconds=delay)}
    return {"status": EmailStatus.SENT if sent else EmailStatus.LOGGED, "attempts": attempts,
            "last_error": None, "subject": mail.subject, "sent_at": utcnow()}


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}"


def compose(session: Session, row: OutboundEmail, *, public_url: str) -> tuple[Mail, str]:
    """The email a row stands for, from the item as it is now, and the secret it holds (the
    link's token, hidden from logs)."""
    approval = approvals_repo.get_approval(session, row.approval_id or "")
    run = session.get(Run, row.run_id) if row.run_id else None
    workspace = session.get(Workspace, row.workspace_id)
    if approval is None or run is None or workspace is None:
        raise Skip("the item no longer exists")
    base = public_url.rstrip("/")
    if row.kind == EmailKind.DECISION:
        return _decision(approval, run, workspace, row, base), ""
    user = _still_asked(session, approval, row)
    token = token_for(approval, user.id)
    title = approval.workflow_title or "a workflow"
    policy = Policy.of_json(approval.policy, approval.assignees)
    votes = approvals_repo.votes_of(session, approval.id)
    handed = delegation_to(approval, user.email) or {}
    by = str(handed.get("from_label") or handed.get("from_email") or "A colleague")
    values = {
        "instructions": approval.instructions or "",
        "due": _when(approval.due_at), "overdue": bool(approval.due_at and approval.due_at
                                                         < utcnow()),
        "progress": progress(policy, [v.decision for v in votes]),
        "summary": _summary(run.input), "link": link_url(token, base),
        "inbox_url": f"{base}/approvals"}
    mail = Mail(template="item", subject=_HEADLINES[row.kind].format(title=title)[:300],
                headline=_HEADLINES[row.kind].format(title=title),
                intro=_intro(row.kind, title, by, handed),
                workspace_name=workspace.name, workflow_title=title,
                footer=_footer(workspace), settings_url=_settings_url(base), values=values)
    return mail, token


def _intro(kind: str, title: str, by: str, handed: dict[str, Any]) -> str:
    if kind == EmailKind.DELEGATED and is_out_of_office(handed):
        until = str(handed.get("ends_at") or "")[:16].replace("T", " ")
        return (f"{by} is out of office until {until} UTC, so this item comes to you: you "
                "decide in their place.")
    return _INTROS[kind].format(title=title, by=by)


def _still_asked(session: Session, approval: Approval, row: OutboundEmail) -> User:
    """The recipient, if the item still waits for them; else Skip."""
    if approval.status != ApprovalStatus.PENDING:
        raise Skip(f"the item was {approval.status} before this email went out")
    user = session.get(User, row.user_id) if row.user_id else None
    membership = accounts_repo.membership(session, workspace_id=approval.workspace_id,
                                          user_id=user.id) if user is not None else None
    if (user is None or membership is None or not user.is_active
            or not permissions.can(membership.role, permissions.DECIDE_APPROVALS)
            or not is_assignee(approval, email=user.email, role=membership.role)):
        raise Skip("the recipient can no longer decide this item")
    actor = Actor.user(user_id=user.id, email=user.email, role=membership.role,
                       workspace_id=approval.workspace_id)
    voter = acting_ref(approval, actor)
    if any(vote.voter == voter for vote in approvals_repo.votes_of(session, approval.id)):
        raise Skip("the recipient has voted already")
    return user


def _decision(approval: Approval, run: Run, workspace: Workspace, row: OutboundEmail,
              base: str) -> Mail:
    title = approval.workflow_title or "a workflow"
    outcome = approval.status if approval.status != ApprovalStatus.PENDING else "decided"
    fields = ((run.outputs or {}).get(approval.step_key) or {}).get("fields") or {}
    values = {"outcome": outcome, "decided_by": approval.decided_by or "",
              "comment": approval.comment or "", "fields": _summary(fields),
              "run_url": f"{base}/runs/{run.id}" if row.user_id else ""}
    word = {"approved": "Approved", "rejected": "Rejected"}.get(outcome, outcome.capitalize())
    return Mail(template="decision", subject=f"{word}: {title}"[:300], headline=f"{word}: {title}",
                intro=f"Your request in {title} was {outcome}.", workspace_name=workspace.name,
                workflow_title=title, footer=_footer(workspace),
                settings_url=_settings_url(base), values=values)


def _summary(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    out = []
    for key, value in list(data.items())[:SUMMARY_ROWS]:
        text = value if isinstance(value, str) else ("yes" if value is True else "no"
                                                     if value is False else str(value))
        out.append((str(key)[:80], text[:VALUE_CHARS]))
    return out


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _settings_url(base: str) -> str:
    return f"{base}/settings/notifications"


def _footer(workspace: Workspace) -> str:
    return f"You get this email as a member of “{workspace.name}” in Flowdesk."
