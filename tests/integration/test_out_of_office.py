"""Out of office, on SQLite and PostgreSQL: a member away names a delegate for a range; their
pending items and the new ones that name them are delegated for that range only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.clock import utcnow
from app.db import read_session, write_session
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models import Actor, Approval, AuditLog, Event, Role
from app.services import approvals, inbox, out_of_office


def member(world: Any, name: str, role: str = Role.APPROVER) -> Actor:
    return world.member(name, role)  # type: ignore[no-any-return]


def blocked(world: Any, assignees: list[str], **policy: Any) -> str:
    """The approval of a new run waiting on a step assigned to `assignees`."""
    definition = {"start": "ask", "steps": {
        "ask": {"kind": "approval", "assignees": assignees, "next": "done", **policy},
        "done": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True}}}
    run_id = world.trigger(world.publish(definition))
    world.drain()
    return world.approvals(run_id)[0].id


def away(actor: Actor, to: str, *, starts_in_h: float = -1, ends_in_h: float = 24,
         **kwargs: Any) -> out_of_office.OutOfOffice:
    now = utcnow()
    with write_session() as session:
        return out_of_office.set_out_of_office(
            session, actor=actor, delegate_email=to,
            starts_at=now + timedelta(hours=starts_in_h),
            ends_at=now + timedelta(hours=ends_in_h), **kwargs)


def vote(world: Any, approval_id: str, actor: Actor, *, in_h: float = 0) -> str:
    with write_session() as session:
        return approvals.decide_approval(session, workspace_id=world.workspace_id,
                                         approval_id=approval_id, decision="approved",
                                         actor=actor,
                                         now=utcnow() + timedelta(hours=in_h)).status


def item(actor: Actor, approval_id: str) -> inbox.InboxItem | None:
    with read_session() as session:
        return next((i for i in inbox.pending_for(session, actor=actor) if i.id == approval_id),
                    None)


def stored(approval_id: str) -> Approval:
    with read_session() as session:
        approval = session.get(Approval, approval_id)
        assert approval is not None
        return approval


def delegated_events() -> list[dict[str, Any]]:
    with read_session() as session:
        rows = session.exec(select(Event).where(Event.type == "approval.delegated")).all()
    return [row.payload["data"] for row in rows]


def test_pending_items_are_delegated_when_set(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    approval_id = blocked(world, ["ann@acme.test"])
    shown = away(ann, "cat@acme.test")
    assert shown.delegate_email == "cat@acme.test" and shown.active
    handed = item(ann, approval_id)
    assert handed is not None and handed.out_of_office and not handed.can_decide
    assert handed.delegated_to == "cat@acme.test" and handed.out_of_office_until == shown.ends_at
    received = item(cat, approval_id)
    assert received is not None and received.scope == "delegated" and received.out_of_office
    assert received.can_decide and received.delegated_from == "ann@acme.test"
    [event] = delegated_events()
    assert event["reason"] == "out_of_office" and event["to"] == "cat@acme.test"
    assert event["approval_id"] == approval_id and event["ends_at"] == shown.ends_at
    with read_session() as session:
        [entry] = session.exec(select(AuditLog).where(
            AuditLog.action == "member.out_of_office_set")).all()
    assert entry.details["pending_delegated"] == 1
    assert vote(world, approval_id, cat) == "approved"
    assert stored(approval_id).decided_by == "cat@acme.test for ann@acme.test"


def test_a_new_item_created_while_away_is_delegated(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    away(ann, "cat@acme.test")
    approval_id = blocked(world, ["user:ann@acme.test", "role:builder"])
    [entry] = stored(approval_id).delegations
    assert (entry["reason"], entry["from_email"], entry["to_email"]) == (
        "out_of_office", "ann@acme.test", "cat@acme.test")
    received = item(cat, approval_id)
    assert received is not None and received.can_decide and received.out_of_office
    assert [e["approval_id"] for e in delegated_events()] == [approval_id]
    with pytest.raises(Conflict, match="delegated"):
        vote(world, approval_id, ann)
    assert vote(world, approval_id, cat) == "approved"


def test_after_the_range_ends_the_assignee_decides_again(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    approval_id = blocked(world, ["ann@acme.test"])
    away(ann, "cat@acme.test", ends_in_h=1)
    with pytest.raises(Forbidden):
        vote(world, approval_id, cat, in_h=2)  # ann is back: cat no longer acts for her
    assert vote(world, approval_id, ann, in_h=2) == "approved"


def test_a_range_that_has_not_begun_waits_for_its_start(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    approval_id = blocked(world, ["ann@acme.test"])
    shown = away(ann, "cat@acme.test", starts_in_h=24, ends_in_h=48)
    assert not shown.active
    mine = item(ann, approval_id)
    assert mine is not None and mine.can_decide and not mine.out_of_office
    assert item(cat, approval_id) is None
    assert vote(world, approval_id, cat, in_h=25) == "approved"


def test_items_for_a_role_are_not_delegated(world: Any) -> None:
    ann = member(world, "ann")
    member(world, "cat")
    away(ann, "cat@acme.test")
    approval_id = blocked(world, ["role:approver"])
    assert stored(approval_id).delegations == []
    assert delegated_events() == []


def test_clearing_ends_the_delegation_now(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    approval_id = blocked(world, ["ann@acme.test"])
    away(ann, "cat@acme.test")
    with write_session() as session:
        out_of_office.clear_out_of_office(session, actor=ann)
    with read_session() as session:
        assert out_of_office.get_out_of_office(session, actor=ann) is None
    assert item(cat, approval_id) is None
    with pytest.raises(Forbidden):
        vote(world, approval_id, cat)
    later = blocked(world, ["ann@acme.test"])
    assert stored(later).delegations == []
    assert vote(world, approval_id, ann) == "approved"


def test_saving_again_replaces_the_range_on_pending_items(world: Any) -> None:
    ann, cat, dan = member(world, "ann"), member(world, "cat"), member(world, "dan")
    approval_id = blocked(world, ["ann@acme.test"])
    away(ann, "cat@acme.test")
    away(ann, "dan@acme.test", ends_in_h=48)
    entries = stored(approval_id).delegations
    assert [(e["to_email"], e["ends_at"] is not None) for e in entries] == [
        ("cat@acme.test", True), ("dan@acme.test", True)]
    assert item(cat, approval_id) is None  # the first range was cut when the second was saved
    dan_sees = item(dan, approval_id)
    assert dan_sees is not None and dan_sees.can_decide


def _refusal(actor: Actor, **kwargs: Any) -> dict[str, str]:
    with write_session() as session, pytest.raises(ValidationFailed) as refused:
        out_of_office.set_out_of_office(session, actor=actor, **kwargs)
    return {e.field: e.message for e in refused.value.errors}


def test_refusals_name_the_field(world: Any) -> None:
    ann, vic = member(world, "ann"), member(world, "vic", Role.VIEWER)
    now = utcnow()
    soon = now + timedelta(days=2)
    assert "is you" in _refusal(ann, delegate_email="ann@acme.test",
                                ends_at=soon)["delegate_email"]
    assert "viewer" in _refusal(ann, delegate_email="vic@acme.test",
                                ends_at=soon)["delegate_email"]
    assert "not an active member" in _refusal(ann, delegate_email="who@acme.test",
                                              ends_at=soon)["delegate_email"]
    assert _refusal(ann, delegate_email="", ends_at=None) == {
        "delegate_email": "is required", "ends_at": "is required: when are you back?"}
    assert _refusal(ann, delegate_email="approver@acme.test", starts_at=soon,
                    ends_at=now + timedelta(days=1)) == {
        "ends_at": "must be after the start"}
    assert _refusal(ann, delegate_email="approver@acme.test",
                    starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=1)) == {
        "ends_at": "must be in the future"}
    assert "YYYY-MM-DD" in _refusal(ann, delegate_email="approver@acme.test",
                                    starts_at="next monday", ends_at=soon)["starts_at"]
    with write_session() as session, pytest.raises(Forbidden):  # a viewer decides nothing
        out_of_office.set_out_of_office(session, actor=vic, delegate_email="ann@acme.test",
                                        ends_at=soon)


def test_days_cover_whole_utc_days(world: Any) -> None:
    ann = member(world, "ann")
    today = utcnow().date()
    last = today + timedelta(days=3)
    with write_session() as session:
        shown = out_of_office.set_out_of_office(
            session, actor=ann, delegate_email="approver@acme.test",
            starts_at=today.isoformat(), ends_at=last.isoformat())
    assert shown.starts_at == f"{today.isoformat()}T00:00:00.000Z"
    assert shown.ends_at == f"{(last + timedelta(days=1)).isoformat()}T00:00:00.000Z"
    assert (shown.first_day, shown.last_day) == (today.isoformat(), last.isoformat())
