"""Approval policies, pure: who may vote, and when the votes cast so far decide the step.

An approval step's policy is copied onto its approval when the step starts to wait (so a
later edit of the workflow never changes an item already in someone's inbox). Each vote is
a `Ballot`; `tally()` says whether the ballots decide the step (`approved`, `rejected`) or it
keeps waiting (None):

- `any`: the first ballot decides, either way (the behaviour before policies existed);
- `all`: one rejection rejects; it approves once every listed assignee has approved — a
  `user:`/email entry by that person, a `role:` entry by any one member holding that role
  (an admin's or an API key's approval stands in for any one entry not yet approved);
- `quorum`: `quorum` approvals approve; it rejects as soon as the approvals cast plus the
  eligible voters who have not voted can no longer reach `quorum`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from app.engine.definition import parse_duration
from app.engine.fields import FieldSpec

ANY = "any"
ALL = "all"
QUORUM = "quorum"
APPROVED = "approved"
REJECTED = "rejected"
ADMIN_ROLE = "admin"


@dataclass(frozen=True)
class Policy:
    mode: str = ANY
    quorum: int | None = None
    assignees: tuple[str, ...] = ()
    allow_requester: bool = False
    require_comment_on_reject: bool = False
    fields: tuple[FieldSpec, ...] = ()
    remind_every_s: float | None = None
    escalate_after_s: float | None = None
    escalate_to: tuple[str, ...] = ()
    on_timeout: str | None = None  # "reject", "approve" or a step key

    @classmethod
    def of_step(cls, step: Any) -> Policy:
        def seconds(text: str | None) -> float | None:
            return parse_duration(text) if text else None

        return cls(mode=step.mode, quorum=step.quorum, assignees=tuple(step.assignees),
                   allow_requester=step.allow_requester,
                   require_comment_on_reject=step.require_comment_on_reject,
                   fields=tuple(step.fields), remind_every_s=seconds(step.remind_every),
                   escalate_after_s=seconds(step.escalate_after),
                   escalate_to=tuple(step.escalate_to), on_timeout=step.on_timeout)

    @classmethod
    def of_json(cls, data: dict[str, Any] | None, assignees: Sequence[str]) -> Policy:
        """The policy stored on an approval ({} for approvals made before policies: `any`,
        and the requester allowed, as it was then)."""
        if not data:
            return cls(assignees=tuple(assignees), allow_requester=True)
        return cls(mode=str(data.get("mode", ANY)), quorum=data.get("quorum"),
                   assignees=tuple(assignees),
                   allow_requester=bool(data.get("allow_requester", False)),
                   require_comment_on_reject=bool(data.get("require_comment_on_reject", False)),
                   fields=tuple(FieldSpec.model_validate(f) for f in data.get("fields", ())),
                   remind_every_s=data.get("remind_every_s"),
                   escalate_after_s=data.get("escalate_after_s"),
                   escalate_to=tuple(data.get("escalate_to", ())),
                   on_timeout=data.get("on_timeout"))

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "quorum": self.quorum,
                "allow_requester": self.allow_requester,
                "require_comment_on_reject": self.require_comment_on_reject,
                "fields": [f.model_dump(exclude_none=True) for f in self.fields],
                "remind_every_s": self.remind_every_s, "escalate_after_s": self.escalate_after_s,
                "escalate_to": list(self.escalate_to), "on_timeout": self.on_timeout}

    def approvals_needed(self) -> int:
        """How many approvals decide the step (`any`: one)."""
        if self.mode == QUORUM:
            return int(self.quorum or 1)
        if self.mode == ALL:
            return max(len(self.assignees), 1)
        return 1


@dataclass(frozen=True)
class Ballot:
    """One vote: who (voter is `type:id`), their email and role when a member, the decision,
    the comment and approver fields they gave, how they voted (page, link, api, email)."""

    voter: str
    label: str
    decision: str
    email: str | None = None
    role: str | None = None
    comment: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    via: str = "api"
    at: datetime | None = None


def _entry_target(entry: str) -> tuple[str, str]:
    if entry.startswith("role:"):
        return "role", entry[5:]
    return "user", (entry[5:] if entry.startswith("user:") else entry).lower()


def _matches(entry: str, ballot: Ballot) -> bool:
    kind, target = _entry_target(entry)
    if kind == "role":
        return ballot.role == target
    return ballot.email is not None and ballot.email.lower() == target


def _stands_in(ballot: Ballot) -> bool:
    """An admin, or an API key (an integration deciding on someone's behalf), may decide
    without being listed: their approval fills one entry not yet approved."""
    return ballot.role == ADMIN_ROLE or ballot.voter.startswith("api_key:")


def _every_entry_approved(assignees: Sequence[str], approvals: Sequence[Ballot]) -> bool:
    """Each listed assignee has one approval of its own (people before roles, so a named
    person's vote is not spent on a role; an admin fills any one entry left)."""
    open_entries = sorted(assignees, key=lambda e: e.startswith("role:"))
    for ballot in approvals:
        match = next((e for e in open_entries if _matches(e, ballot)), None)
        if match is None and _stands_in(ballot) and open_entries:
            match = open_entries[0]
        if match is not None:
            open_entries.remove(match)
    return not open_entries


def tally(policy: Policy, ballots: Sequence[Ballot], *, eligible: int) -> str | None:
    """`approved`, `rejected` or None (keep waiting). `eligible`: how many people may vote
    in all (members matching the assignees, the requester left out unless allowed); only
    `quorum` needs it, to reject once approval is out of reach."""
    if not ballots:
        return None
    if policy.mode == ANY:
        return ballots[0].decision
    approvals = [b for b in ballots if b.decision == APPROVED]
    rejections = len(ballots) - len(approvals)
    if policy.mode == ALL:
        if rejections:
            return REJECTED
        return APPROVED if _every_entry_approved(policy.assignees, approvals) else None
    needed = policy.approvals_needed()
    if len(approvals) >= needed:
        return APPROVED
    still_to_vote = max(eligible - len(ballots), 0)
    return REJECTED if len(approvals) + still_to_vote < needed else None


def merged_fields(ballots: Sequence[Ballot]) -> dict[str, Any]:
    """The approver fields in the step's output: every approval's values, later ones over
    earlier ones."""
    merged: dict[str, Any] = {}
    for ballot in ballots:
        if ballot.decision == APPROVED:
            merged.update(ballot.fields)
    return merged


def progress(policy: Policy, decisions: Sequence[str]) -> str:
    """"1 of 2 approvals" for pages ("" under `any`, where one decision settles it)."""
    if policy.mode == ANY:
        return ""
    approvals = sum(1 for decision in decisions if decision == APPROVED)
    return f"{approvals} of {policy.approvals_needed()} approvals"


# ---------------------------------------------------------------- timers

TIMEOUT = "timeout"
ESCALATE = "escalate"
REMIND = "remind"
MAX_REMINDERS = 20


@dataclass(frozen=True)
class TimerState:
    """What an approval's timers depend on (its row's columns)."""

    created_at: datetime
    due_at: datetime | None = None
    reminders_sent: int = 0
    last_reminded_at: datetime | None = None
    escalated_at: datetime | None = None


def _timer_times(policy: Policy, state: TimerState) -> dict[str, datetime]:
    times: dict[str, datetime] = {}
    if policy.on_timeout and state.due_at is not None:
        times[TIMEOUT] = state.due_at
    if policy.escalate_after_s and policy.escalate_to and state.escalated_at is None:
        times[ESCALATE] = state.created_at + timedelta(seconds=policy.escalate_after_s)
    if policy.remind_every_s and state.reminders_sent < MAX_REMINDERS:
        since = state.last_reminded_at or state.created_at
        at = since + timedelta(seconds=policy.remind_every_s)
        if TIMEOUT not in times or at < times[TIMEOUT]:
            times[REMIND] = at
    return times


def next_timer(policy: Policy, state: TimerState) -> datetime | None:
    """When the approval's next timer fires (None: it only waits for votes)."""
    times = _timer_times(policy, state)
    return min(times.values()) if times else None


def timers_due(policy: Policy, state: TimerState, now: datetime) -> list[str]:
    """The timers due at `now`, in the order they act; a timeout ends the wait, so nothing
    else fires with it."""
    due = [kind for kind, at in _timer_times(policy, state).items() if at <= now]
    if TIMEOUT in due:
        return [TIMEOUT]
    return [kind for kind in (ESCALATE, REMIND) if kind in due]


def after_firing(state: TimerState, fired: Sequence[str], now: datetime) -> TimerState:
    """The timer state once `fired` have acted at `now`."""
    reminded = REMIND in fired
    return replace(state,
                   reminders_sent=state.reminders_sent + (1 if reminded else 0),
                   last_reminded_at=now if reminded else state.last_reminded_at,
                   escalated_at=now if ESCALATE in fired else state.escalated_at)


def timeout_outcome(policy: Policy) -> tuple[str, str | None]:
    """(decision, step to go to) when the approval times out: `reject` → rejected, `approve`
    → approved, a step key → "timed_out" going there."""
    words = {"reject": REJECTED, "approve": APPROVED}
    if policy.on_timeout in words:
        return words[policy.on_timeout], None
    return "timed_out", policy.on_timeout
