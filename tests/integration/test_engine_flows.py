"""The engine end to end on a real database: runs move through every step kind."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import write_session
from app.errors import Conflict, ValidationFailed
from app.models import RunStatus, StepStatus
from app.services import approvals, runs

ONBOARDING: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {"kind": "input", "fields": [
            {"name": "Full Name", "type": "text", "required": True},
            {"name": "Email", "type": "email", "required": True}], "next": "prepare"},
        "prepare": {"kind": "tool", "tool": "set",
                    "args": {"greeting": "Hello {{ input['Full Name'] }}"}, "next": "manager"},
        "manager": {"kind": "approval", "assignees": ["role:approver"],
                    "instructions": "Approve {{ input['Full Name'] }}", "due_in": "48h",
                    "next": "route"},
        "route": {"kind": "branch", "branches": [
            {"if": "steps.manager.decision == 'approved'", "then": "welcome"}], "else": "bye"},
        "welcome": {"kind": "tool", "tool": "set",
                    "args": {"message": "Welcome {{ input['Full Name'] }}"}, "done": True},
        "bye": {"kind": "tool", "tool": "set", "args": {"message": "Sorry"}, "done": True},
    },
}
JANE = {"Full Name": "Jane Doe", "Email": "jane@acme.test"}


def decide(world: Any, run_id: str, decision: str) -> None:
    approval = world.approvals(run_id)[0]
    with write_session() as session:
        approvals.decide_approval(session, workspace_id=world.workspace_id,
                                  approval_id=approval.id, decision=decision, actor=world.approver,
                                  comment="ok")


def test_approved_run_completes_through_the_welcome_branch(world: Any) -> None:
    run_id = world.trigger(world.publish(ONBOARDING), JANE)
    world.drain()
    assert world.run(run_id).status == RunStatus.BLOCKED
    approval = world.approvals(run_id)[0]
    assert approval.instructions == "Approve Jane Doe"
    assert approval.due_at is not None
    decide(world, run_id, "approved")
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["welcome"] == {"message": "Welcome Jane Doe"}
    assert run.outputs["manager"]["decision"] == "approved"
    assert [s.step_key for s in world.steps(run_id)] == [
        "intake", "prepare", "manager", "route", "welcome"]
    assert all(s.status == StepStatus.DONE for s in world.steps(run_id))


def test_rejection_without_on_reject_ends_the_run(world: Any) -> None:
    run_id = world.trigger(world.publish(ONBOARDING), JANE)
    world.drain()
    decide(world, run_id, "rejected")
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["manager"]["decision"] == "rejected"
    assert "route" not in run.outputs


def test_rejection_follows_on_reject(world: Any) -> None:
    definition = {**ONBOARDING, "steps": {**ONBOARDING["steps"], "manager": {
        **ONBOARDING["steps"]["manager"], "on_reject": "bye"}}}
    run_id = world.trigger(world.publish(definition), JANE)
    world.drain()
    decide(world, run_id, "rejected")
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["bye"] == {"message": "Sorry"}


def test_second_decision_is_refused(world: Any) -> None:
    run_id = world.trigger(world.publish(ONBOARDING), JANE)
    world.drain()
    decide(world, run_id, "approved")
    with pytest.raises(Conflict):
        decide(world, run_id, "rejected")


def test_trigger_with_missing_and_mistyped_fields_names_each_and_writes_nothing(world: Any) -> None:
    workflow_id = world.publish(ONBOARDING)
    with pytest.raises(ValidationFailed) as caught:
        world.trigger(workflow_id, {"Email": "not-an-email"})
    fields = {e.field for e in caught.value.errors}
    assert fields == {"input.Full Name", "input.Email"}
    from sqlmodel import select

    from app.db import read_session
    from app.models import Run

    with read_session() as session:
        assert session.exec(select(Run)).all() == []


def test_failing_tool_flags_the_run_after_its_retries_then_retry_succeeds(world: Any) -> None:
    definition = {"start": "a", "steps": {
        "a": {"kind": "tool", "tool": "fail", "args": {"message": "boom"},
              "retry": {"max_attempts": 2, "backoff_s": 1}, "next": "b"},
        "b": {"kind": "tool", "tool": "set", "args": {"ok": True}}}}
    run_id = world.trigger(world.publish(definition))
    world.drain()
    first = world.steps(run_id)[0]
    assert first.status == StepStatus.PENDING and first.attempt == 1
    world.advance(5)
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.FLAGGED
    assert "boom" in (run.error or "")
    failed = world.steps(run_id)[0]
    assert failed.status == StepStatus.FAILED and failed.attempt == 2
    with write_session() as session:
        runs.skip_step(session, workspace_id=world.workspace_id, step_id=failed.id,
                       actor=world.actor)
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert [s.status for s in world.steps(run_id)] == [StepStatus.SKIPPED, StepStatus.DONE]


def test_signal_step_waits_until_ready(world: Any) -> None:
    definition = {"start": "gate", "steps": {
        "gate": {"kind": "signal", "next": "after"},
        "after": {"kind": "tool", "tool": "set", "args": {"v": "{{ steps.gate.payload.x }}"}}}}
    run_id = world.trigger(world.publish(definition))
    world.drain()
    assert world.run(run_id).status == RunStatus.BLOCKED
    gate = world.steps(run_id)[0]
    with write_session() as session:
        runs.signal_step(session, workspace_id=world.workspace_id, step_id=gate.id,
                         actor=world.actor, payload={"x": 7})
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["after"] == {"v": 7}


def test_delay_waits_for_its_duration(world: Any) -> None:
    definition = {"start": "wait", "steps": {
        "wait": {"kind": "delay", "duration": "1h", "next": "after"},
        "after": {"kind": "tool", "tool": "set", "args": {}}}}
    run_id = world.trigger(world.publish(definition))
    world.drain()
    assert world.steps(run_id)[0].status == StepStatus.WAITING
    assert world.run(run_id).status == RunStatus.IN_PROGRESS
    world.advance(1800)
    world.drain()
    assert world.steps(run_id)[0].status == StepStatus.WAITING
    world.advance(1801)
    world.drain()
    assert world.run(run_id).status == RunStatus.COMPLETED
    assert world.steps(run_id)[0].attempt == 1


def test_subworkflow_runs_the_child_and_takes_its_outputs(world: Any) -> None:
    child_id = world.publish({"start": "in", "steps": {
        "in": {"kind": "input", "fields": [{"name": "n", "type": "number"}], "next": "double"},
        "double": {"kind": "tool", "tool": "set", "args": {"v": "{{ input.n * 2 }}"}}}},
        title="Child")
    parent_id = world.publish({"start": "call", "steps": {
        "call": {"kind": "subworkflow", "workflow_id": child_id, "input": {"n": 21},
                 "next": "use"},
        "use": {"kind": "tool", "tool": "set",
                "args": {"got": "{{ steps.call.outputs.double.v }}"}}}}, title="Parent")
    run_id = world.trigger(parent_id)
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["use"] == {"got": 42}


def test_cancel_stops_a_blocked_run_and_cancels_its_approval(world: Any) -> None:
    run_id = world.trigger(world.publish(ONBOARDING), JANE)
    world.drain()
    with write_session() as session:
        runs.cancel_run(session, workspace_id=world.workspace_id, run_id=run_id,
                        actor=world.actor)
    assert world.run(run_id).status == RunStatus.CANCELLED
    assert world.approvals(run_id)[0].status == "cancelled"
    assert world.steps(run_id)[-1].status == StepStatus.CANCELLED
    with pytest.raises(Conflict):
        with write_session() as session:
            runs.cancel_run(session, workspace_id=world.workspace_id, run_id=run_id,
                            actor=world.actor)


def test_expired_lease_is_reclaimed_exactly_once_and_the_late_result_refused(world: Any) -> None:
    definition = {"start": "a", "steps": {"a": {"kind": "tool", "tool": "set", "args": {}}}}
    run_id = world.trigger(world.publish(definition))
    executor = world.executor
    executor.clock = world.now
    (first,) = executor.claim(10)
    world.advance(60)  # the first worker stalls past its 30 s lease
    second = executor.claim(10)
    again = executor.claim(10)
    assert len(second) == 1 and again == []
    assert second[0].attempt == 2
    executor.run_claim(first)  # the stale worker comes back: its commit is refused
    assert world.steps(run_id)[0].status == StepStatus.RUNNING
    executor.run_claim(second[0])
    assert world.run(run_id).status == RunStatus.COMPLETED
    assert world.run(run_id).steps_completed == 1


def test_a_claim_takes_the_longest_due_steps_of_every_kind_first_and_at_most_its_limit(
        world: Any) -> None:
    quick = {"start": "a", "steps": {"a": {"kind": "tool", "tool": "set", "args": {}}}}
    timer = {"start": "wait", "steps": {"wait": {"kind": "delay", "duration": "5s"}}}
    workflow_id = world.publish(quick)
    executor = world.executor
    executor.clock = world.now
    stalled_run = world.trigger(workflow_id)
    assert len(executor.claim(10)) == 1  # its worker stalls: the lease runs out at +30 s
    world.advance(1)
    sleeping_run = world.trigger(world.publish(timer, title="Timer"))
    executor.run_until_idle()  # the delay step waits until +6 s
    world.advance(1)
    pending_runs = [world.trigger(workflow_id) for _ in range(3)]  # due at once
    world.advance(60)
    first = executor.claim(2)
    one_by_one = [executor.claim(1) for _ in range(3)]
    # Due at +0 s (pending, in the order triggered), +6 s (the timer), +30 s (the lease).
    assert {claim.run_id for claim in first} == set(pending_runs[:2])
    assert [claim.run_id for (claim,) in one_by_one] == [pending_runs[2], sleeping_run,
                                                         stalled_run]
    assert executor.claim(10) == []
