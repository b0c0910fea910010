"""Out of office: a member names a delegate for a date range. Pending approvals that name them
(by email, not through a role) are delegated at once, new ones as they are created (in the
engine's write path, app/repo/out_of_office.py); each entry holds only within the range, so
when it ends the member decides again and the delegate no longer does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session

from app import wakeup
from app.clock import as_utc, iso, utcnow
from app.engine.approval_policy import Policy
from app.errors import FieldError, Forbidden, ValidationFailed
from app.models import Actor, Approval, ApprovalStatus, Membership, User
from app.models.delegation import (
    OUT_OF_OFFICE,
    Away,
    in_force,
    is_out_of_office,
    out_of_office_entry,
    parse_time,
)
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import audit
from app.repo import runs as runs_repo
from app.services import permissions
from app.services.approval_delegation import emit_about

# Pending items one save delegates at most (newest first); saving again reaches older ones.
MAX_PENDING_HANDED = 500


@dataclass(frozen=True)
class OutOfOffice:
    """A member's setting as pages and the API show it (times RFC 3339, days YYYY-MM-DD)."""

    user_email: str
    delegate_email: str
    starts_at: str
    ends_at: str
    first_day: str  # the range as whole UTC days, for the page's date inputs
    last_day: str
    active: bool  # the absence is under way now


def _shown(user: User, away: Away, now: datetime) -> OutOfOffice:
    last = as_utc(away.ends_at) - timedelta(microseconds=1)
    return OutOfOffice(user_email=user.email, delegate_email=away.delegate_email,
                       starts_at=iso(away.starts_at) or "", ends_at=iso(away.ends_at) or "",
                       first_day=as_utc(away.starts_at).date().isoformat(),
                       last_day=last.date().isoformat(),
                       active=as_utc(away.starts_at) <= now < as_utc(away.ends_at))


def _member(session: Session, actor: Actor, user_email: str | None) -> tuple[Membership, User]:
    """Whose setting it is: a signed-in member's own; an API key names the member."""
    if actor.is_user:
        found = accounts_repo.membership(session, workspace_id=actor.workspace_id,
                                         user_id=actor.id or "")
        user = session.get(User, actor.id) if found is not None else None
        if found is None or user is None:
            raise Forbidden("You are not a member of this workspace")
        return found, user
    email = (user_email or "").strip().lower()
    user = accounts_repo.user_by_email(session, email) if email else None
    found = accounts_repo.membership(session, workspace_id=actor.workspace_id,
                                     user_id=user.id) if user is not None else None
    if user is None or found is None or not user.is_active:
        raise ValidationFailed("The member is not valid", errors=[FieldError(
            "user", f"{user_email or '(missing)'} is not an active member of this workspace "
                    "(an API key acts for the member it names)",
            "required" if not email else "invalid")])
    return found, user


def get_out_of_office(session: Session, *, actor: Actor, user_email: str | None = None,
                      now: datetime | None = None) -> OutOfOffice | None:
    """The member's setting, or None when they set none (or it ended)."""
    membership, user = _member(session, actor, user_email)
    away = Away.of_json(membership.out_of_office)
    at = now or utcnow()
    return None if away is None or away.over(at) else _shown(user, away, at)


def delegate_choices(session: Session, *, actor: Actor,
                     user_email: str | None = None) -> list[str]:
    """Whom the member may name: active members who may decide approvals, not themselves."""
    _, user = _member(session, actor, user_email)
    return [other.email for membership, other in accounts_repo.members_of_workspace(
        session, actor.workspace_id)
        if other.is_active and other.id != user.id
        and permissions.can(membership.role, permissions.DECIDE_APPROVALS)]


def _moment(value: datetime | str | None, name: str, *, end_of_day: bool,
            errors: list[FieldError]) -> datetime | None:
    """A datetime (RFC 3339) or a day (YYYY-MM-DD, UTC: its start, or the start of the next
    day for the range's last day)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day + timedelta(days=1 if end_of_day else 0), time.min,
                                    tzinfo=UTC)
        return parse_time(text)
    except ValueError:
        errors.append(FieldError(name, "must be a date (YYYY-MM-DD) or a date and time "
                                       "(RFC 3339)"))
        return None


def _checked(session: Session, workspace_id: str, user: User, delegate_email: str,
             starts_at: datetime | str | None, ends_at: datetime | str | None,
             now: datetime) -> Away:
    errors: list[FieldError] = []
    email = (delegate_email or "").strip().lower()
    target = next(((m, u) for m, u in accounts_repo.members_of_workspace(session, workspace_id)
                   if u.email.lower() == email), None) if email else None
    if not email:
        errors.append(FieldError("delegate_email", "is required", "required"))
    elif email == user.email.lower():
        errors.append(FieldError("delegate_email", "is you: name a colleague"))
    elif target is None or not target[1].is_active:
        errors.append(FieldError("delegate_email",
                                 f"{email} is not an active member of this workspace"))
    elif not permissions.can(target[0].role, permissions.DECIDE_APPROVALS):
        errors.append(FieldError("delegate_email", f"{email} has the role {target[0].role}, "
                                                   "which cannot decide approvals"))
    starts = _moment(starts_at, "starts_at", end_of_day=False, errors=errors) or now
    ends = _moment(ends_at, "ends_at", end_of_day=True, errors=errors)
    if ends is None and not any(e.field == "ends_at" for e in errors):
        errors.append(FieldError("ends_at", "is required: when are you back?", "required"))
    elif ends is not None and ends <= starts:
        errors.append(FieldError("ends_at", "must be after the start"))
    elif ends is not None and ends <= now:
        errors.append(FieldError("ends_at", "must be in the future"))
    if errors or target is None or ends is None:
        raise ValidationFailed("The out-of-office setting is not valid", errors=errors)
    return Away(delegate_email=email, delegate_user_id=target[1].id, starts_at=starts,
                ends_at=ends)


def set_out_of_office(session: Session, *, actor: Actor, delegate_email: str,
                      ends_at: datetime | str | None, starts_at: datetime | str | None = None,
                      user_email: str | None = None,
                      now: datetime | None = None) -> OutOfOffice:
    """Name a delegate from `starts_at` (now by default) to `ends_at`; the member's pending
    items are delegated for that range (saving again replaces the earlier range)."""
    at = now or utcnow()
    membership, user = _member(session, actor, user_email)
    permissions.require(membership.role, permissions.DECIDE_APPROVALS)
    away = _checked(session, membership.workspace_id, user, delegate_email, starts_at, ends_at,
                    at)
    membership.out_of_office = away.to_json()
    session.add(membership)
    handed = _hand_pending(session, membership, user, away, by=actor.display, now=at)
    audit.record(session, workspace_id=membership.workspace_id, actor=actor,
                 action="member.out_of_office_set", resource_type="membership",
                 resource_id=membership.id,
                 details={"user": user.email, **away.to_json(), "pending_delegated": handed})
    session.commit()
    return _shown(user, away, at)


def clear_out_of_office(session: Session, *, actor: Actor, user_email: str | None = None,
                        now: datetime | None = None) -> None:
    """Back early (or never mind): the setting goes, and the delegates stop acting now."""
    at = now or utcnow()
    membership, user = _member(session, actor, user_email)
    membership.out_of_office = None
    session.add(membership)
    for approval in _pending_naming(session, membership, user):
        kept = _ended(approval.delegations or [], f"user:{user.id}", at)
        if kept != approval.delegations:
            approval.delegations = kept
            session.add(approval)
            wakeup.mark(session, wakeup.APPROVALS)
    audit.record(session, workspace_id=membership.workspace_id, actor=actor,
                 action="member.out_of_office_cleared", resource_type="membership",
                 resource_id=membership.id, details={"user": user.email})
    session.commit()


def _ended(entries: list[dict[str, Any]], ref: str, now: datetime) -> list[dict[str, Any]]:
    """The entries with the member's out-of-office ones cut at `now`: one not begun goes, one
    under way ends now, one over stays (they stay on the item as its history)."""
    kept = []
    for entry in entries:
        if not is_out_of_office(entry) or entry.get("from") != ref or _over(entry, now):
            kept.append(entry)
        elif in_force(entry, now):
            kept.append({**entry, "ends_at": iso(now)})
    return kept


def _over(entry: dict[str, Any], now: datetime) -> bool:
    return entry.get("ends_at") is not None and parse_time(entry["ends_at"]) <= now


def _pending_naming(session: Session, membership: Membership, user: User) -> list[Approval]:
    rows = approvals_repo.list_approvals(session, workspace_id=membership.workspace_id,
                                         limit=MAX_PENDING_HANDED,
                                         status=ApprovalStatus.PENDING, assignee=user.email)
    locked = [approvals_repo.lock_approval(session, row.id) for row in rows]
    return [a for a in locked if a is not None and a.status == ApprovalStatus.PENDING]


def _hand_pending(session: Session, membership: Membership, user: User, away: Away, *,
                  by: str, now: datetime) -> int:
    """Put the range's entry on each pending item naming the member (in place of an earlier
    range's); answers how many items it delegated."""
    ref = f"user:{user.id}"
    entry = out_of_office_entry(user_id=user.id, email=user.email, role=membership.role,
                                away=away, by=by, now=now)
    handed = 0
    for approval in _pending_naming(session, membership, user):
        earlier = _ended(approval.delegations or [], ref, now)
        if not _may_hand(session, approval, earlier, ref, away, now):
            continue
        approval.delegations = [*earlier, entry]
        session.add(approval)
        emit_about(session, approval, "approval.delegated", {
            "from": user.email, "to": away.delegate_email,
            "assignees": list(approval.assignees), "reason": OUT_OF_OFFICE,
            "starts_at": entry["starts_at"], "ends_at": entry["ends_at"]})
        handed += 1
    return handed


def _may_hand(session: Session, approval: Approval, earlier: list[dict[str, Any]], ref: str,
              away: Away, now: datetime) -> bool:
    """Not when the member handed the item on by hand or voted, nor when the delegate
    decides it for someone else already or started its run and may not decide it."""
    if any(d.get("from") == ref and in_force(d, now) for d in earlier):
        return False
    if any(d.get("to_email") == away.delegate_email and not _over(d, now) for d in earlier):
        return False
    if any(vote.voter == ref for vote in approvals_repo.votes_of(session, approval.id)):
        return False
    policy = Policy.of_json(approval.policy, approval.assignees)
    run = runs_repo.get_run(session, approval.run_id)
    return policy.allow_requester or run is None or (
        run.requester != f"user:{away.delegate_user_id}")
