"""Out-of-office settings as the engine's write path reads them: who an approval names is
away, and the delegation entries (and `approval.delegated` events) new approvals get."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.models import Membership, User
from app.models.delegation import OUT_OF_OFFICE, Away, named_emails, out_of_office_entry
from app.repo.events import CoreEvent


@dataclass(frozen=True, slots=True)
class AwayMember:
    workspace_id: str
    user_id: str
    email: str
    role: str
    away: Away


def away_members(session: Session, *, workspace_ids: Sequence[str],
                 emails: Sequence[str], now: datetime) -> list[AwayMember]:
    """The members with these emails (in these workspaces) whose absence has not ended: one
    query by the unique email and membership keys."""
    if not emails or not workspace_ids:
        return []
    query = (select(Membership, User)
             .join(User, col(User.id) == col(Membership.user_id))
             .where(col(Membership.workspace_id).in_(sorted(set(workspace_ids))),
                    col(User.email).in_(sorted(set(emails))),
                    col(Membership.out_of_office).is_not(None), col(User.is_active)))
    found = []
    for membership, user in session.exec(query).all():
        away = Away.of_json(membership.out_of_office)
        if away is not None and not away.over(now) and away.delegate_email != user.email:
            found.append(AwayMember(workspace_id=membership.workspace_id, user_id=user.id,
                                    email=user.email, role=membership.role, away=away))
    return found


@dataclass(frozen=True, slots=True)
class NamedApproval:
    """A new approval's row (as apply() will insert it) that names people, and who started
    its run (an out-of-office delegate who did is skipped when the policy refuses them)."""

    row: dict[str, Any]
    requester: str | None


def delegate_new_approvals(session: Session, named: Sequence[NamedApproval],
                           now: datetime) -> list[CoreEvent]:
    """Give each new approval an out-of-office entry for every named assignee who is away
    (in the row, before it is inserted); answers the `approval.delegated` events."""
    emails = {email for item in named for email in named_emails(item.row["assignees"])}
    away = away_members(session, workspace_ids=[item.row["workspace_id"] for item in named],
                        emails=sorted(emails), now=now)
    if not away:
        return []
    by_key = {(member.workspace_id, member.email): member for member in away}
    events: list[CoreEvent] = []
    for item in named:
        row = item.row
        for email in sorted(named_emails(row["assignees"])):
            member = by_key.get((row["workspace_id"], email))
            if member is None or _refused(row, item.requester, member):
                continue
            if any(d["to_email"] == member.away.delegate_email for d in row["delegations"]):
                continue  # one delegate decides for one person only
            row["delegations"] = [*row["delegations"], out_of_office_entry(
                user_id=member.user_id, email=member.email, role=member.role,
                away=member.away, by=member.email, now=now)]
            events.append(CoreEvent(
                type="approval.delegated", workspace_id=row["workspace_id"],
                run_id=row["run_id"], workflow_id=row["workflow_id"],
                data={"approval_id": row["id"], "step_key": row["step_key"],
                      "step_id": row["step_run_id"], "from": member.email,
                      "to": member.away.delegate_email, "assignees": list(row["assignees"]),
                      "reason": OUT_OF_OFFICE, "starts_at": row["delegations"][-1]["starts_at"],
                      "ends_at": row["delegations"][-1]["ends_at"]}))
    return events


def _refused(row: dict[str, Any], requester: str | None, member: AwayMember) -> bool:
    """The delegate started the run and the approval's policy refuses the requester."""
    allowed = not row["policy"] or bool(row["policy"].get("allow_requester", False))
    return (not allowed and requester is not None and bool(member.away.delegate_user_id)
            and requester == f"user:{member.away.delegate_user_id}")
