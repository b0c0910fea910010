"""Approval timers: reminders, escalation and timeouts, held in the database.

Each pending approval keeps its next timer in `next_timer_at` (planned by the pure
app/engine/approval_policy.py). A background job in every process calls
`fire_due_approval_timers`; for each due approval it takes the timer by compare-and-set on
that column and acts in the same transaction, so a timer fires exactly once however many
processes run the job, and a crash before the commit leaves it due for the next tick.

- escalation adds `escalate_to` to the assignees (the original ones kept) and emits
  `approval.escalated`;
- a reminder emits `approval.reminded` (for chat bots and, later, emails);
- a timeout decides the approval as `on_timeout` says, through the one transition path.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from app.clock import iso, utcnow
from app.engine.approval_policy import (
    ESCALATE,
    REMIND,
    TIMEOUT,
    Policy,
    TimerState,
    after_firing,
    next_timer,
    timers_due,
)
from app.models import Actor, Approval
from app.repo import approvals as approvals_repo
from app.repo import audit, events
from app.services.approvals import time_out

log = logging.getLogger("app.approvals")

MAX_DUE_PER_TICK = 100
TIMER_ACTOR = Actor.system("approval timers")


def _state(approval: Approval) -> TimerState:
    return TimerState(created_at=approval.created_at, due_at=approval.due_at,
                      reminders_sent=approval.reminders_sent,
                      last_reminded_at=approval.last_reminded_at,
                      escalated_at=approval.escalated_at)


def fire_due_approval_timers(session: Session, *, now: datetime | None = None) -> list[str]:
    """Fire every approval timer due at `now` that this process wins; returns what fired, as
    "<approval id>:<kind>"."""
    now = now or utcnow()
    fired: list[str] = []
    for approval in approvals_repo.due_timers(session, now, MAX_DUE_PER_TICK):
        try:
            fired += [f"{approval.id}:{kind}" for kind in _fire(session, approval, now)]
        except Exception:
            session.rollback()
            log.exception("approval timer of %s failed; it stays due", approval.id)
    session.rollback()  # nothing was claimed if nothing was due: end the read
    return fired


def _fire(session: Session, approval: Approval, now: datetime) -> list[str]:
    policy = Policy.of_json(approval.policy, approval.assignees)
    state = _state(approval)
    kinds = timers_due(policy, state, now)
    after = after_firing(state, kinds, now)
    assignees = list(approval.assignees)
    if ESCALATE in kinds:
        assignees += [a for a in policy.escalate_to if a not in assignees]
    expected = approval.next_timer_at
    assert expected is not None
    values = {"next_timer_at": None if TIMEOUT in kinds else next_timer(policy, after),
              "reminders_sent": after.reminders_sent,
              "last_reminded_at": after.last_reminded_at, "escalated_at": after.escalated_at,
              "assignees": assignees}
    if not approvals_repo.claim_timer(session, approval.id, expected=expected, values=values):
        session.rollback()  # another process took it
        return []
    base = {"approval_id": approval.id, "step_key": approval.step_key,
            "step_id": approval.step_run_id, "instructions": approval.instructions,
            "due_at": iso(approval.due_at), "assignees": assignees}
    if ESCALATE in kinds:
        _emit(session, approval, "approval.escalated",
              {**base, "escalated_to": list(policy.escalate_to)})
        audit.record(session, workspace_id=approval.workspace_id, actor=TIMER_ACTOR,
                     action="approval.escalated", resource_type="approval",
                     resource_id=approval.id, details={"escalated_to": list(policy.escalate_to)})
    if REMIND in kinds:
        _emit(session, approval, "approval.reminded",
              {**base, "reminder": after.reminders_sent})
    # a timeout commits with the claim; one that no longer applies leaves only the claim
    if TIMEOUT not in kinds or time_out(session, approval_id=approval.id, now=now) is None:
        session.commit()
    return kinds


def _emit(session: Session, approval: Approval, type: str, data: dict[str, object]) -> None:
    events.emit(session, type=type, workspace_id=approval.workspace_id, data=dict(data),
                run_id=approval.run_id, workflow_id=approval.workflow_id)
