"""An approval's delegation entries (`Approval.delegations`): their shape, and when one is in
force. A hand-over by the Delegate button holds for good; an out-of-office one holds from
`starts_at` to `ends_at` only, so the delegate stops acting when the absence ends."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.clock import as_utc, iso

OUT_OF_OFFICE = "out_of_office"  # the `reason` of an entry made by an out-of-office setting


@dataclass(frozen=True, slots=True)
class Away:
    """A member's out-of-office setting (`Membership.out_of_office`), parsed."""

    delegate_email: str
    delegate_user_id: str
    starts_at: datetime
    ends_at: datetime

    @classmethod
    def of_json(cls, data: dict[str, Any] | None) -> Away | None:
        """None when unset or unreadable (a row written by hand, say)."""
        if not data or not data.get("delegate_email"):
            return None
        try:
            return cls(delegate_email=str(data["delegate_email"]).lower(),
                       delegate_user_id=str(data.get("delegate_user_id") or ""),
                       starts_at=parse_time(data["starts_at"]),
                       ends_at=parse_time(data["ends_at"]))
        except (KeyError, TypeError, ValueError):
            return None

    def to_json(self) -> dict[str, Any]:
        return {"delegate_email": self.delegate_email, "delegate_user_id": self.delegate_user_id,
                "starts_at": iso(self.starts_at), "ends_at": iso(self.ends_at)}

    def over(self, now: datetime) -> bool:
        return as_utc(self.ends_at) <= now


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def in_force(entry: dict[str, Any], now: datetime) -> bool:
    """Whether a delegation entry hands the vote on at `now` (entries without a range always
    do)."""
    try:
        starts = entry.get("starts_at")
        ends = entry.get("ends_at")
        return ((starts is None or parse_time(starts) <= now)
                and (ends is None or now < parse_time(ends)))
    except (TypeError, ValueError):
        return False


def is_out_of_office(entry: dict[str, Any]) -> bool:
    return entry.get("reason") == OUT_OF_OFFICE


def out_of_office_entry(*, user_id: str, email: str, role: str, away: Away, by: str,
                        now: datetime) -> dict[str, Any]:
    """The entry an out-of-office setting puts on a pending approval that names the member:
    the same keys as a Delegate button's, plus the reason and the range."""
    return {"from": f"user:{user_id}", "from_label": email, "from_email": email,
            "from_role": role, "to_email": away.delegate_email,
            "to_user_id": away.delegate_user_id, "by": by, "at": iso(now),
            "reason": OUT_OF_OFFICE, "starts_at": iso(away.starts_at),
            "ends_at": iso(away.ends_at)}


def named_emails(assignees: Iterable[str]) -> set[str]:
    """The people an approval names by email (`ann@x` or `user:ann@x`), lowercased; roles
    are not people."""
    found = set()
    for assignee in assignees:
        target = assignee[5:] if assignee.startswith("user:") else assignee
        if "@" in target and not assignee.startswith("role:"):
            found.add(target.strip().lower())
    return found
