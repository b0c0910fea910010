"""Approval policies, pure: any / all / quorum outcomes, early rejection, the merged fields,
and the step definition's validation of the policy fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.engine.approval_policy import (
    MAX_REMINDERS,
    Ballot,
    Policy,
    TimerState,
    after_firing,
    merged_fields,
    next_timer,
    tally,
    timeout_outcome,
    timers_due,
)
from app.engine.definition import validate_definition
from app.engine.fields import FieldSpec


def ballot(who: str, decision: str = "approved", *, role: str | None = "approver",
           **fields: object) -> Ballot:
    return Ballot(voter=f"user:{who}", label=f"{who}@acme.test", decision=decision,
                  email=f"{who}@acme.test", role=role, fields=dict(fields))


ANY = Policy(assignees=("role:approver",))
ALL = Policy(mode="all", assignees=("ann@acme.test", "role:finance"))
QUORUM_2 = Policy(mode="quorum", quorum=2, assignees=("role:approver",))


def test_nothing_is_decided_without_a_vote() -> None:
    for policy in (ANY, ALL, QUORUM_2):
        assert tally(policy, [], eligible=3) is None


@pytest.mark.parametrize("decision", ["approved", "rejected"])
def test_any_the_first_vote_decides(decision: str) -> None:
    assert tally(ANY, [ballot("ann", decision)], eligible=5) == decision


def test_all_waits_for_every_listed_assignee() -> None:
    ann = ballot("ann", role="approver")
    bob_finance = ballot("bob", role="finance")
    assert tally(ALL, [ann], eligible=3) is None
    assert tally(ALL, [ann, bob_finance], eligible=3) == "approved"
    # a finance member alone does not stand in for the named person
    assert tally(ALL, [bob_finance, ballot("cat", role="finance")], eligible=3) is None


def test_all_one_rejection_rejects_at_once() -> None:
    assert tally(ALL, [ballot("ann", "rejected")], eligible=3) == "rejected"
    assert tally(ALL, [ballot("ann"), ballot("bob", "rejected", role="finance")],
                 eligible=3) == "rejected"


def test_all_a_named_person_who_also_holds_the_role_fills_their_own_entry_first() -> None:
    ann_finance = ballot("ann", role="finance")
    assert tally(ALL, [ann_finance], eligible=3) is None  # role:finance still open
    assert tally(ALL, [ann_finance, ballot("bob", role="finance")], eligible=3) == "approved"


def test_all_an_admin_stands_in_for_one_entry() -> None:
    admin = ballot("root", role="admin")
    assert tally(ALL, [ballot("ann"), admin], eligible=3) == "approved"
    assert tally(ALL, [admin], eligible=3) is None


def test_quorum_approves_at_n() -> None:
    assert tally(QUORUM_2, [ballot("a")], eligible=4) is None
    assert tally(QUORUM_2, [ballot("a"), ballot("b", "rejected"), ballot("c")],
                 eligible=4) == "approved"


def test_quorum_rejects_once_approval_is_out_of_reach() -> None:
    # 3 eligible, 2 needed: one rejection leaves 2 possible approvals, two rejections do not
    assert tally(QUORUM_2, [ballot("a", "rejected")], eligible=3) is None
    assert tally(QUORUM_2, [ballot("a", "rejected"), ballot("b", "rejected")],
                 eligible=3) == "rejected"
    # fewer eligible voters than the quorum: the first rejection ends it
    assert tally(QUORUM_2, [ballot("a", "rejected")], eligible=2) == "rejected"


def test_approvals_needed() -> None:
    assert ANY.approvals_needed() == 1
    assert ALL.approvals_needed() == 2
    assert QUORUM_2.approvals_needed() == 2


def test_merged_fields_take_approvals_only_later_over_earlier() -> None:
    votes = [ballot("a", start="2027-01-04", centre="A"), ballot("b", "rejected", centre="X"),
             ballot("c", centre="C")]
    assert merged_fields(votes) == {"start": "2027-01-04", "centre": "C"}


def test_the_policy_round_trips_through_json() -> None:
    policy = Policy(mode="quorum", quorum=3, assignees=("role:approver",),
                    require_comment_on_reject=True,
                    fields=(FieldSpec(name="start", type="date", required=True),))
    again = Policy.of_json(policy.to_json(), ["role:approver"])
    assert again == policy


def test_an_approval_from_before_policies_is_any_with_the_requester_allowed() -> None:
    old = Policy.of_json({}, ["role:approver"])
    assert old.mode == "any" and old.allow_requester


def _problems(step: dict) -> list[tuple[str, str]]:
    definition = {"start": "ask", "steps": {"ask": {"kind": "approval", "done": True, **step}}}
    _, problems = validate_definition(definition, known_tools=())
    return [(p.field, p.message) for p in problems]


def test_the_step_validates_its_policy_fields() -> None:
    assert _problems({"assignees": ["role:approver"], "mode": "quorum", "quorum": 2,
                      "fields": [{"name": "start", "type": "date", "required": True}]}) == []
    assert any("needs 'quorum'" in message
               for _, message in _problems({"assignees": ["a@b.co"], "mode": "quorum"}))
    assert any("only with mode 'quorum'" in message
               for _, message in _problems({"assignees": ["a@b.co"], "quorum": 2}))
    assert any(field.startswith("steps.ask.mode")
               for field, _ in _problems({"assignees": ["a@b.co"], "mode": "most"}))
    assert any(field.startswith("steps.ask.fields")
               for field, _ in _problems({"assignees": ["a@b.co"],
                                          "fields": [{"name": "x", "type": "colour"}]}))


# ---------------------------------------------------------------- timers

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
TIMED = Policy(assignees=("role:approver",), remind_every_s=3600, escalate_after_s=7200,
               escalate_to=("role:admin",), on_timeout="reject")


def test_the_first_timer_is_the_earliest_of_reminder_escalation_and_timeout() -> None:
    state = TimerState(created_at=T0, due_at=T0 + timedelta(hours=5))
    assert next_timer(TIMED, state) == T0 + timedelta(hours=1)
    assert next_timer(Policy(), state) is None  # nothing timed: it only waits for votes
    assert next_timer(Policy(on_timeout="approve"), state) == T0 + timedelta(hours=5)


def test_timers_fire_in_order_and_plan_the_next() -> None:
    state = TimerState(created_at=T0, due_at=T0 + timedelta(hours=5))
    at = T0 + timedelta(hours=2)
    fired = timers_due(TIMED, state, at)
    assert fired == ["escalate", "remind"]
    later = after_firing(state, fired, at)
    assert later.reminders_sent == 1 and later.escalated_at == at
    assert next_timer(TIMED, later) == at + timedelta(hours=1)  # the next reminder
    assert timers_due(TIMED, later, at) == []


def test_a_timeout_fires_alone_and_no_reminder_is_planned_after_it() -> None:
    state = TimerState(created_at=T0, due_at=T0 + timedelta(minutes=90), reminders_sent=1,
                       last_reminded_at=T0 + timedelta(hours=1),
                       escalated_at=T0 + timedelta(hours=1))
    assert next_timer(TIMED, state) == T0 + timedelta(minutes=90)
    assert timers_due(TIMED, state, T0 + timedelta(hours=3)) == ["timeout"]


def test_reminders_stop_after_the_cap() -> None:
    policy = Policy(remind_every_s=60)
    state = TimerState(created_at=T0, reminders_sent=MAX_REMINDERS)
    assert next_timer(policy, state) is None


def test_what_a_timeout_decides() -> None:
    assert timeout_outcome(Policy(on_timeout="reject")) == ("rejected", None)
    assert timeout_outcome(Policy(on_timeout="approve")) == ("approved", None)
    assert timeout_outcome(Policy(on_timeout="chase_up")) == ("timed_out", "chase_up")


def test_the_step_validates_its_timer_fields() -> None:
    base = {"assignees": ["role:approver"]}
    assert any("go together" in m for _, m in _problems({**base, "escalate_after": "1h"}))
    assert any("needs 'due_in'" in m for _, m in _problems({**base, "on_timeout": "reject"}))
    assert any(f.startswith("steps.ask.remind_every")
               for f, _ in _problems({**base, "remind_every": "often"}))
    assert _problems({**base, "due_in": "2d", "on_timeout": "approve", "remind_every": "1d",
                      "escalate_after": "1d", "escalate_to": ["role:admin"]}) == []
