"""Approval timers against the database, on SQLite and PostgreSQL: reminders and escalation
at their offsets exactly once however many processes tick, and each `on_timeout` path."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta
from typing import Any

from sqlmodel import select

from app.db import read_session, write_session
from app.models import Event, RunStatus
from app.services import approvals
from app.services.approval_timers import fire_due_approval_timers


def flow(**policy: Any) -> dict[str, Any]:
    chase = {"chase": {"kind": "tool", "tool": "set", "args": {"chased": True}, "done": True}}
    steps = {
        "ask": {"kind": "approval", "assignees": ["role:approver"], "next": "yes",
                "on_reject": "no", **policy},
        "yes": {"kind": "tool", "tool": "set", "args": {"yes": True}, "done": True},
        "no": {"kind": "tool", "tool": "set", "args": {"no": True}, "done": True}}
    if policy.get("on_timeout") == "chase":  # reachable only by the timeout
        steps.update(chase)
    return {"start": "ask", "steps": steps}


def blocked(world: Any, definition: dict[str, Any]) -> str:
    run_id = world.trigger(world.publish(definition))
    world.drain()
    assert world.run(run_id).status == RunStatus.BLOCKED
    return run_id


def tick(world: Any, after_s: float) -> list[str]:
    with write_session() as session:
        return fire_due_approval_timers(session, now=world.now() + timedelta(seconds=after_s))


def events_of(run_id: str, type: str) -> list[Event]:
    with read_session() as session:
        return list(session.exec(select(Event).where(Event.run_id == run_id,
                                                     Event.type == type)).all())


def test_reminders_and_escalation_fire_at_their_offsets_once(world: Any) -> None:
    run_id = blocked(world, flow(remind_every="1h", escalate_after="90m",
                                 escalate_to=["admin@acme.test"]))
    approval = world.approvals(run_id)[0]
    assert approval.next_timer_at is not None
    assert tick(world, 30 * 60) == []  # nothing due after 30 minutes
    assert [f.split(":")[1] for f in tick(world, 61 * 60)] == ["remind"]
    assert tick(world, 62 * 60) == []  # the same reminder never twice
    assert [f.split(":")[1] for f in tick(world, 91 * 60)] == ["escalate"]
    escalated = world.approvals(run_id)[0]
    assert escalated.assignees == ["role:approver", "admin@acme.test"]
    assert escalated.escalated_at is not None and escalated.reminders_sent == 1
    assert [f.split(":")[1] for f in tick(world, 2 * 3600 + 60)] == ["remind"]
    assert len(events_of(run_id, "approval.reminded")) == 2
    (event,) = events_of(run_id, "approval.escalated")
    assert event.payload["data"]["escalated_to"] == ["admin@acme.test"]


def test_several_processes_ticking_at_once_fire_each_timer_once(world: Any) -> None:
    run_ids = [blocked(world, flow(remind_every="1h")) for _ in range(3)]

    def process(_: int) -> list[str]:
        return tick(world, 61 * 60)

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        fired = [f for batch in pool.map(process, range(6)) for f in batch]
    assert len(fired) == 3 and len(set(fired)) == 3
    for run_id in run_ids:
        assert len(events_of(run_id, "approval.reminded")) == 1


def test_on_timeout_reject_and_approve(world: Any) -> None:
    rejected = blocked(world, flow(due_in="2h", on_timeout="reject"))
    approved = blocked(world, flow(due_in="2h", on_timeout="approve"))
    assert tick(world, 3600) == []
    fired = tick(world, 2 * 3600 + 1)
    assert sorted(f.split(":")[1] for f in fired) == ["timeout", "timeout"]
    world.advance(2 * 3600 + 2)
    world.drain()
    assert world.run(rejected).outputs["no"] == {"no": True}
    assert world.run(approved).outputs["yes"] == {"yes": True}
    assert world.approvals(rejected)[0].status == "rejected"
    assert world.approvals(rejected)[0].decided_by == "timeout"
    assert world.run(rejected).outputs["ask"]["decision"] == "rejected"
    assert tick(world, 3 * 3600) == []  # decided: no timer left


def test_on_timeout_to_a_step(world: Any) -> None:
    run_id = blocked(world, flow(due_in="1h", on_timeout="chase", remind_every="20m"))
    kinds = [f.split(":")[1] for f in tick(world, 25 * 60)]
    assert kinds == ["remind"]
    assert [f.split(":")[1] for f in tick(world, 61 * 60)] == ["timeout"]
    world.advance(61 * 60 + 1)
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED and run.outputs["chase"] == {"chased": True}
    assert world.approvals(run_id)[0].status == "expired"
    assert run.outputs["ask"]["decision"] == "timed_out"


def test_a_vote_before_the_timeout_wins(world: Any) -> None:
    run_id = blocked(world, flow(due_in="1h", on_timeout="reject"))
    approval = world.approvals(run_id)[0]
    with write_session() as session:
        approvals.decide_approval(session, workspace_id=world.workspace_id,
                                  approval_id=approval.id, decision="approved",
                                  actor=world.approver)
    assert tick(world, 2 * 3600) == []
    world.drain()
    assert world.run(run_id).outputs["yes"] == {"yes": True}
