"""A member's choice of approval emails, and (for admins) how email is delivered and what
the outbox holds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.clock import iso
from app.errors import FieldError, ValidationFailed, not_found
from app.mail.sender import sender_for_settings
from app.models import Actor, User
from app.repo import audit
from app.repo import emails as emails_repo
from app.services import permissions
from app.services.notifications import Preference
from app.settings import get_settings

CHOICES = {
    Preference.ALL: "Every approval I can decide, reminders, escalations and decisions on "
                    "my requests",
    Preference.NAMED: "Items assigned to me by name or delegated to me, not those sent to my "
                      "role; and decisions on my requests",
    Preference.NONE: "No emails; I use the inbox",
}


@dataclass(frozen=True)
class EmailRow:
    """One outbox row as the admin's list shows it (no body: it holds a signed link)."""

    id: str
    to_addr: str
    kind: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: str
    sent_at: str


def my_preference(session: Session, *, actor: Actor) -> str:
    user = session.get(User, actor.id) if actor.is_user else None
    if user is None:
        raise not_found("user", actor.id or "")
    return user.email_notifications or Preference.ALL


def set_my_preference(session: Session, *, actor: Actor, choice: str) -> str:
    if choice not in CHOICES:
        raise ValidationFailed("Invalid choice", errors=[FieldError(
            "email_notifications", f"must be one of {', '.join(CHOICES)}", "invalid")])
    user = session.get(User, actor.id) if actor.is_user else None
    if user is None:
        raise not_found("user", actor.id or "")
    before = user.email_notifications
    user.email_notifications = choice
    session.add(user)
    audit.record(session, workspace_id=actor.workspace_id, actor=actor,
                 action="user.email_notifications", resource_type="user", resource_id=user.id,
                 details={"from": before, "to": choice})
    session.commit()
    return choice


def delivery_summary() -> tuple[str, str]:
    """(mode, one line): `smtp`, `log` (no SMTP_URL) or `broken` (SMTP_URL unusable)."""
    sender = sender_for_settings(get_settings())
    return sender.mode, sender.describe()


def recent_emails(session: Session, *, actor: Actor, limit: int = 50) -> list[EmailRow]:
    permissions.require(actor.role, permissions.MANAGE_MEMBERS)
    return [EmailRow(id=row.id, to_addr=row.to_addr, kind=row.kind.replace("_", " "),
                     subject=row.subject, status=row.status, attempts=row.attempts,
                     last_error=row.last_error or "", created_at=iso(row.created_at) or "",
                     sent_at=iso(row.sent_at) or "")
            for row in emails_repo.recent(session, workspace_id=actor.workspace_id,
                                          limit=limit)]
