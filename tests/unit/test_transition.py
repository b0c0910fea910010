"""The one transition function: every outcome of a step, decided without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.clock import iso
from app.engine.definition import Definition, parse_definition
from app.engine.steps.base import Complete, Fail, Sleep, WaitForApproval, WaitForSignal
from app.engine.transition import (
    RECLAIM_ALLOWANCE,
    Cancelled,
    ChildFinished,
    Decided,
    Refused,
    Retried,
    Signalled,
    Skipped,
    StartChild,
    approval_result,
    decide,
    plan_start,
    refusal,
)
from app.models import RunStatus, StepStatus, Trigger
from app.models.transition import RunState, StepState, Transition

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LEASE = "lease-1"
TOOLS = {"set", "echo", "fail"}

FLOW: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {"kind": "input", "fields": [
            {"name": "Email", "type": "email", "required": True}], "next": "call"},
        "call": {"kind": "tool", "tool": "echo", "next": "manager",
                 "retry": {"max_attempts": 3, "backoff_s": 2, "max_backoff_s": 60}},
        "manager": {"kind": "approval", "assignees": ["role:approver"], "next": "route",
                    "on_reject": "sorry"},
        "route": {"kind": "branch", "branches": [
            {"if": "steps.manager.decision == 'approved'", "then": "gate"}], "else": "sorry"},
        "gate": {"kind": "signal", "next": "nap"},
        "nap": {"kind": "delay", "duration": "1h", "next": "child"},
        "child": {"kind": "subworkflow", "workflow_id": "wf_child", "next": "wrap"},
        "wrap": {"kind": "tool", "tool": "set", "done": True},
        "sorry": {"kind": "tool", "tool": "set", "done": True},
    },
}
CHILD: dict[str, Any] = {
    "start": "ask",
    "steps": {"ask": {"kind": "input", "fields": [
        {"name": "n", "type": "number", "required": True}], "next": "one"},
              "one": {"kind": "tool", "tool": "set", "done": True}},
}


@pytest.fixture(scope="module")
def flow() -> Definition:
    return parse_definition(FLOW, known_tools=TOOLS, known_workflows={"wf_child"})


@pytest.fixture(scope="module")
def child_flow() -> Definition:
    return parse_definition(CHILD, known_tools=TOOLS)


def run_state(**changes: Any) -> RunState:
    base = RunState(
        id="run_1", workspace_id="ws_1", workflow_id="wf_1", workflow_version_id="wfv_1",
        version_number=2, workflow_title="Onboarding", status=RunStatus.IN_PROGRESS,
        input={"Email": "a@b.co"}, outputs={"intake": {"Email": "a@b.co"}},
        trigger=Trigger.API, created_at=NOW - timedelta(seconds=3), deadline_at=None,
        parent_step_id=None, steps_completed=1, current_step="call")
    return replace(base, **changes)


def step_state(key: str = "call", **changes: Any) -> StepState:
    kinds = {k: v["kind"] for k, v in FLOW["steps"].items()}
    base = StepState(
        id=f"stp_{key}", run_id="run_1", workspace_id="ws_1", step_key=key,
        kind=kinds[key], seq=1, status=StepStatus.RUNNING, attempt=1, max_attempts=3,
        input={"previous": "intake"}, started_at=NOW - timedelta(seconds=1))
    return replace(base, **changes)


def event_types(transition: Transition) -> list[str]:
    return [event.type for event in transition.events]


def executor(outcome: Any, flow: Definition, *, step: StepState | None = None,
             run: RunState | None = None, rand: float = 0.5) -> Transition:
    return decide(run or run_state(), step or step_state(), outcome, flow, now=NOW,
                  lease_token=LEASE, rand=rand)


# -- the executor's outcomes -----------------------------------------------------------------


def test_done_step_creates_the_next_one_and_keeps_its_output(flow: Definition) -> None:
    t = executor(Complete(result={"ok": 1}, next_step="manager",
                          recorded_input={"args": {"x": 1}}), flow)
    (write,) = t.step_writes
    assert (write.status, write.result, write.finished_at) == (StepStatus.DONE, {"ok": 1}, NOW)
    assert write.lease_token == LEASE and write.from_statuses == ()
    assert write.input == {"previous": "intake", "args": {"x": 1}}
    assert t.new_step is not None
    assert (t.new_step.step_key, t.new_step.kind, t.new_step.seq) == ("manager", "approval", 2)
    assert t.new_step.input == {"previous": "call"} and t.new_step.max_attempts == 1
    assert t.run is not None and t.after is not None
    assert t.run.status == RunStatus.IN_PROGRESS and t.run.current_step == "manager"
    assert t.run.outputs["call"] == {"ok": 1} and t.run.steps_completed == 2
    # The run's write is guarded by what was read: a concurrent change makes it stale.
    assert (t.run.from_status, t.run.from_steps_completed) == (RunStatus.IN_PROGRESS, 1)
    assert event_types(t) == ["run.step_completed"]
    assert t.resumes_parent_step is None


def test_new_step_takes_its_retry_budget_from_the_definition(flow: Definition) -> None:
    t = executor(Complete(result=None, next_step="call"), flow, step=step_state("intake"))
    assert t.new_step is not None and t.new_step.max_attempts == 3


def test_last_step_completes_the_run_with_its_outputs(flow: Definition) -> None:
    t = executor(Complete(result={"v": 2}, next_step=None), flow, step=step_state("wrap"))
    assert t.after is not None and t.run is not None
    assert t.after.status == RunStatus.COMPLETED and t.run.completed_at == NOW
    assert t.new_step is None
    assert event_types(t) == ["run.step_completed", "run.completed"]
    completed = t.events[1].data
    assert completed["outputs"]["wrap"] == {"v": 2}
    assert completed["duration_ms"] == 3000 and completed["steps_completed"] == 2


def test_last_step_of_a_child_run_resumes_the_parent_step(flow: Definition) -> None:
    t = executor(Complete(result=1, next_step=None), flow, step=step_state("wrap"),
                 run=run_state(parent_step_id="stp_parent"))
    assert t.resumes_parent_step == "stp_parent"


def test_retryable_failure_within_budget_waits_with_backoff(flow: Definition) -> None:
    t = executor(Fail(error="boom", recorded_input={"tried": True}), flow, rand=0.0)
    (write,) = t.step_writes
    assert write.status == StepStatus.PENDING and write.error == "boom"
    # Equal jitter on a 2 s base for attempt 1: rand 0 gives the floor, half the ceiling.
    assert write.next_attempt_at == NOW + timedelta(seconds=1)
    assert write.input["tried"] is True and write.finished_at is None
    assert t.run is None and t.events == () and t.new_step is None


@pytest.mark.parametrize(("attempt", "rand", "seconds"),
                         [(1, 0.999999, 2.0), (2, 0.0, 2.0), (3, 0.5, 6.0)])
def test_backoff_grows_and_the_draw_spreads_it(flow: Definition, attempt: int, rand: float,
                                               seconds: float) -> None:
    step = step_state(attempt=attempt, max_attempts=5)
    (write,) = executor(Fail(error="x"), flow, step=step, rand=rand).step_writes
    assert write.next_attempt_at is not None
    assert (write.next_attempt_at - NOW).total_seconds() == pytest.approx(seconds, abs=1e-3)


def test_retry_after_from_the_target_lengthens_the_wait_up_to_the_cap(flow: Definition) -> None:
    (write,) = executor(Fail(error="429", retry_after_s=30), flow).step_writes
    assert write.next_attempt_at == NOW + timedelta(seconds=30)
    (capped,) = executor(Fail(error="429", retry_after_s=9999), flow).step_writes
    assert capped.next_attempt_at == NOW + timedelta(seconds=60)


@pytest.mark.parametrize("failure", [
    Fail(error="no more", retryable=True),
    Fail(error="bad request", retryable=False),
])
def test_failure_past_budget_or_not_retryable_flags_the_run(flow: Definition,
                                                            failure: Fail) -> None:
    attempt = 3 if failure.retryable else 1
    t = executor(failure, flow, step=step_state(attempt=attempt))
    (write,) = t.step_writes
    assert write.status == StepStatus.FAILED and write.finished_at == NOW
    assert t.after is not None and t.after.status == RunStatus.FLAGGED
    assert t.after.error == failure.error
    assert event_types(t) == ["run.step_completed", "run.flagged"]
    assert t.events[0].data["step_status"] == StepStatus.FAILED


def test_sleep_waits_with_a_timer_and_leaves_the_run_alone(flow: Definition) -> None:
    until = NOW + timedelta(hours=1)
    t = executor(Sleep(until=until), flow, step=step_state("nap"))
    (write,) = t.step_writes
    assert write.status == StepStatus.WAITING and write.next_attempt_at == until
    assert write.input["until"] == until.isoformat()
    assert t.run is None and t.events == ()


def test_waiting_for_approval_blocks_the_run_and_opens_an_approval(flow: Definition) -> None:
    due = NOW + timedelta(days=2)
    t = executor(WaitForApproval(assignees=["role:approver"], instructions="Please",
                                 due_at=due), flow, step=step_state("manager"))
    (write,) = t.step_writes
    assert write.status == StepStatus.WAITING and write.lease_token == LEASE
    assert t.after is not None and t.after.status == RunStatus.BLOCKED
    assert t.new_approval is not None
    assert (t.new_approval.assignees, t.new_approval.due_at) == (["role:approver"], due)
    assert t.new_approval.step_run_id == "stp_manager"
    event, created = t.events
    assert event.type == "run.awaiting_approval"
    assert event.data["approval_id"] == t.new_approval.id
    assert event.data["waiting_for"] == "approval"
    assert created.type == "approval.created" and created.data["approval_id"] == t.new_approval.id
    assert created.data["due_at"] == iso(due)


def test_waiting_for_a_signal_blocks_without_an_approval(flow: Definition) -> None:
    t = executor(WaitForSignal(), flow, step=step_state("gate"))
    assert t.after is not None and t.after.status == RunStatus.BLOCKED
    assert t.new_approval is None
    assert t.events[0].data["waiting_for"] == "signal"


def start_child(child: Definition, given: dict[str, Any]) -> StartChild:
    return StartChild(workflow_id="wf_child", version_id="wfv_c", version_number=1,
                      title="Child", definition=child, input=given)


def test_sub_workflow_starts_a_child_run_in_the_same_transaction(
        flow: Definition, child_flow: Definition) -> None:
    t = executor(start_child(child_flow, {"n": "4"}), flow, step=step_state("child"))
    (write,) = t.step_writes
    (child,) = t.then
    assert child.new_run is not None and child.new_step is not None
    assert write.status == StepStatus.WAITING
    assert write.input["child_run_id"] == child.new_run.id
    assert child.new_run.parent_step_id == "stp_child"
    assert child.new_run.input == {"n": 4}  # validated and coerced like a trigger's
    assert child.new_run.trigger == Trigger.SUBWORKFLOW
    assert child.new_run.created_by == "run:run_1"
    assert child.new_step.step_key == "ask"
    assert event_types(child) == ["run.started"]


def test_sub_workflow_with_bad_input_flags_the_parent(flow: Definition,
                                                      child_flow: Definition) -> None:
    t = executor(start_child(child_flow, {"n": "many"}), flow, step=step_state("child"))
    assert t.then == ()
    assert t.after is not None and t.after.status == RunStatus.FLAGGED
    assert t.after.error is not None and "n:" in t.after.error


def test_outcome_of_a_cancelled_run_is_dropped(flow: Definition) -> None:
    t = executor(Complete(result=1, next_step="manager"), flow,
                 run=run_state(status=RunStatus.CANCELLED))
    (write,) = t.step_writes
    assert write.status == StepStatus.CANCELLED and write.lease_token == LEASE
    assert t.run is None and t.new_step is None and t.events == ()


def test_executor_outcome_without_the_lease_is_refused(flow: Definition) -> None:
    with pytest.raises(Refused, match="lease"):
        decide(run_state(), step_state(), Complete(result=1, next_step=None), flow, now=NOW)


def test_step_outcome_without_a_step_is_refused(flow: Definition) -> None:
    with pytest.raises(Refused):
        decide(run_state(), None, Skipped(), flow, now=NOW)


# -- operations by people and systems --------------------------------------------------------


def blocked_on(key: str) -> tuple[RunState, StepState]:
    return (run_state(status=RunStatus.BLOCKED, current_step=key),
            step_state(key, status=StepStatus.WAITING))


@pytest.mark.parametrize(("decision", "way"), [("approved", "route"), ("rejected", "sorry")])
def test_decision_finishes_the_approval_and_follows_its_way(flow: Definition, decision: str,
                                                            way: str) -> None:
    run, step = blocked_on("manager")
    result = approval_result(decision=decision, by="usr_1", comment="", approval_id="apr_1",
                             now=NOW)
    t = decide(run, step, Decided(decision=decision, result=result), flow, now=NOW)
    (write,) = t.step_writes
    assert write.status == StepStatus.DONE and write.result["decision"] == decision
    assert write.from_statuses == (StepStatus.WAITING,) and write.lease_token is None
    assert t.new_step is not None and t.new_step.step_key == way
    assert t.after is not None and t.after.status == RunStatus.IN_PROGRESS
    assert t.run is not None and t.run.from_status == RunStatus.BLOCKED
    assert result["comment"] is None and result["decided_at"].startswith("2026-12-06")
    assert t.events[0].type == "approval.decided"
    assert t.events[0].data["decision"] == decision and t.events[0].data["step_key"] == "manager"


def test_rejection_without_on_reject_completes_the_run() -> None:
    raw = {"start": "a", "steps": {"a": {"kind": "approval", "assignees": ["ann@example.com"],
                                         "next": "b"},
                                   "b": {"kind": "tool", "tool": "set", "done": True}}}
    definition = parse_definition(raw, known_tools=TOOLS)
    run = run_state(status=RunStatus.BLOCKED, outputs={}, steps_completed=0)
    step = replace(step_state("manager"), step_key="a", status=StepStatus.WAITING)
    t = decide(run, step, Decided(decision="rejected", result={}), definition, now=NOW)
    assert t.after is not None and t.after.status == RunStatus.COMPLETED


@pytest.mark.parametrize(("run_status", "step_status"), [
    (RunStatus.IN_PROGRESS, StepStatus.WAITING),
    (RunStatus.BLOCKED, StepStatus.DONE),
    (RunStatus.CANCELLED, StepStatus.CANCELLED),
])
def test_decision_on_a_step_that_is_not_waiting_is_refused(
        flow: Definition, run_status: str, step_status: str) -> None:
    run = run_state(status=run_status)
    step = step_state("manager", status=step_status)
    with pytest.raises(Refused):
        decide(run, step, Decided(decision="approved", result={}), flow, now=NOW)


@pytest.mark.parametrize(("run_status", "step_status"), [
    (RunStatus.BLOCKED, StepStatus.WAITING),  # the signal step is waiting
    (RunStatus.IN_PROGRESS, StepStatus.PENDING),  # the signal arrived before the step ran
])
def test_signal_releases_a_pending_or_waiting_signal_step(
        flow: Definition, run_status: str, step_status: str) -> None:
    run = run_state(status=run_status)
    step = step_state("gate", status=step_status, attempt=0, started_at=None)
    t = decide(run, step, Signalled(result={"ready": True}), flow, now=NOW)
    (write,) = t.step_writes
    assert write.status == StepStatus.DONE and write.attempt == 1 and write.started_at == NOW
    assert set(write.from_statuses) == {StepStatus.PENDING, StepStatus.WAITING}
    assert t.new_step is not None and t.new_step.step_key == "nap"


def test_signal_on_a_finished_step_is_refused(flow: Definition) -> None:
    with pytest.raises(Refused):
        decide(run_state(), step_state("gate", status=StepStatus.DONE), Signalled(result={}),
               flow, now=NOW)


def flagged_at(key: str) -> tuple[RunState, StepState]:
    return (run_state(status=RunStatus.FLAGGED, error="boom", current_step=key),
            step_state(key, status=StepStatus.FAILED))


def test_skip_moves_past_the_failed_step(flow: Definition) -> None:
    run, step = flagged_at("call")
    t = decide(run, step, Skipped(), flow, now=NOW)
    (write,) = t.step_writes
    assert write.status == StepStatus.SKIPPED and write.from_statuses == (StepStatus.FAILED,)
    assert t.new_step is not None and t.new_step.step_key == "manager"
    assert t.after is not None and t.after.error is None
    assert t.after.status == RunStatus.IN_PROGRESS
    assert t.after.outputs["call"] is None
    assert t.events[0].data["step_status"] == StepStatus.SKIPPED


def test_skipping_a_branch_takes_its_else_way(flow: Definition) -> None:
    run, step = flagged_at("route")
    t = decide(run, step, Skipped(), flow, now=NOW)
    assert t.new_step is not None and t.new_step.step_key == "sorry"


def test_retry_adds_the_step_again_as_a_new_timeline_entry(flow: Definition) -> None:
    run, step = flagged_at("call")
    t = decide(run, step, Retried(), flow, now=NOW)
    assert t.step_writes == ()  # the failed attempt stays in the timeline
    assert t.new_step is not None
    assert (t.new_step.step_key, t.new_step.seq) == ("call", step.seq + 1)
    assert t.new_step.input == {"previous": "intake"}
    assert t.after is not None and t.after.status == RunStatus.IN_PROGRESS
    assert t.after.error is None


@pytest.mark.parametrize("operation", [Skipped(), Retried()])
def test_skip_and_retry_need_a_flagged_run(flow: Definition, operation: Any) -> None:
    with pytest.raises(Refused):
        decide(run_state(), step_state(status=StepStatus.FAILED), operation, flow, now=NOW)


def test_operation_on_a_step_missing_from_the_version_is_refused(flow: Definition) -> None:
    run, step = flagged_at("call")
    with pytest.raises(Refused, match="not in this version"):
        decide(run, replace(step, step_key="gone"), Skipped(), flow, now=NOW)


def waiting_parent() -> tuple[RunState, StepState]:
    return (run_state(current_step="child"), step_state("child", status=StepStatus.WAITING))


def test_completed_child_run_finishes_the_parent_step(flow: Definition) -> None:
    run, step = waiting_parent()
    t = decide(run, step, ChildFinished(run_id="run_c", status=RunStatus.COMPLETED,
                                        outputs={"one": 1}), flow, now=NOW)
    (write,) = t.step_writes
    assert write.result == {"run_id": "run_c", "status": "COMPLETED", "outputs": {"one": 1}}
    assert t.new_step is not None and t.new_step.step_key == "wrap"


def test_cancelled_child_run_flags_the_parent(flow: Definition) -> None:
    run, step = waiting_parent()
    t = decide(run, step, ChildFinished(run_id="run_c", status=RunStatus.CANCELLED,
                                        outputs={}), flow, now=NOW)
    assert t.step_writes[0].status == StepStatus.FAILED
    assert t.after is not None and t.after.status == RunStatus.FLAGGED
    assert "run_c ended CANCELLED" in (t.after.error or "")


@pytest.mark.parametrize(("run_status", "step_status"), [
    (RunStatus.CANCELLED, StepStatus.CANCELLED),
    (RunStatus.IN_PROGRESS, StepStatus.DONE),
])
def test_child_finishing_after_the_parent_moved_on_writes_nothing(
        flow: Definition, run_status: str, step_status: str) -> None:
    run = run_state(status=run_status)
    step = step_state("child", status=step_status)
    t = decide(run, step, ChildFinished(run_id="run_c", status=RunStatus.COMPLETED,
                                        outputs={}), flow, now=NOW)
    assert t == Transition()


def test_cancel_closes_every_open_step_and_approval() -> None:
    run = run_state(status=RunStatus.BLOCKED, parent_step_id="stp_parent")
    open_steps = (step_state("manager", status=StepStatus.WAITING),
                  step_state("call", status=StepStatus.PENDING))
    t = decide(run, None, Cancelled(reason="Cancelled by ops", open_steps=open_steps), None,
               now=NOW)
    assert [w.status for w in t.step_writes] == [StepStatus.CANCELLED] * 2
    assert all(set(w.from_statuses) == set(StepStatus.OPEN) for w in t.step_writes)
    assert t.cancel_approvals_of_run == "run_1"
    assert t.after is not None and t.after.status == RunStatus.CANCELLED
    assert t.after.error == "Cancelled by ops" and t.after.completed_at == NOW
    assert event_types(t) == ["run.cancelled"]
    assert t.resumes_parent_step == "stp_parent"


def test_cancel_from_the_parent_does_not_resume_it() -> None:
    run = run_state(parent_step_id="stp_parent")
    t = decide(run, None, Cancelled(reason="parent cancelled", resume_parent=False), None,
               now=NOW)
    assert t.resumes_parent_step is None


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.CANCELLED])
def test_cancel_of_a_finished_run_is_refused(status: str) -> None:
    with pytest.raises(Refused, match="already"):
        decide(run_state(status=status), None, Cancelled(reason="x"), None, now=NOW)


# -- starting a run and refusing to run a step ----------------------------------------------


def test_plan_start_makes_a_run_and_its_first_step(flow: Definition) -> None:
    t = plan_start(workspace_id="ws_1", workflow_id="wf_1", version_id="wfv_1",
                   version_number=2, title="Onboarding", definition=flow,
                   input={"Email": "a@b.co"}, trigger=Trigger.API, created_by="key:k1",
                   now=NOW)
    assert t.new_run is not None and t.after == t.new_run and t.run is None
    assert t.new_run.status == RunStatus.IN_PROGRESS and t.new_run.current_step == "intake"
    assert t.new_run.deadline_at is None
    assert t.new_step is not None and t.new_step.run_id == t.new_run.id
    assert t.new_step.seq == 0
    (event,) = t.events
    assert event.type == "run.started" and event.data["input_fields"] == ["Email"]


def test_plan_start_sets_the_deadline_from_max_duration() -> None:
    raw = {**CHILD, "max_duration_s": 90}
    definition = parse_definition(raw, known_tools=TOOLS)
    t = plan_start(workspace_id="ws_1", workflow_id="wf_c", version_id="wfv_c",
                   version_number=1, title="C", definition=definition, input={"n": 1},
                   trigger=Trigger.API, created_by=None, now=NOW)
    assert t.new_run is not None and t.new_run.deadline_at == NOW + timedelta(seconds=90)


def test_refusal_lets_a_healthy_step_run(flow: Definition) -> None:
    assert refusal(run_state(), step_key="call", attempt=1, max_attempts=3, definition=flow,
                   now=NOW) is None


def test_refusal_of_a_run_past_its_deadline(flow: Definition) -> None:
    run = run_state(deadline_at=NOW - timedelta(seconds=1))
    assert "max_duration_s" in (refusal(run, step_key="call", attempt=1, max_attempts=3,
                                        definition=flow, now=NOW) or "")


def test_refusal_of_a_poison_step_that_keeps_killing_its_worker(flow: Definition) -> None:
    args = {"step_key": "call", "max_attempts": 3, "definition": flow, "now": NOW}
    assert refusal(run_state(), attempt=3 + RECLAIM_ALLOWANCE, **args) is None
    reason = refusal(run_state(), attempt=4 + RECLAIM_ALLOWANCE, **args)
    assert reason is not None and "stopped" in reason


def test_refusal_of_a_step_missing_from_the_version(flow: Definition) -> None:
    assert "not in this version" in (refusal(run_state(), step_key="gone", attempt=1,
                                             max_attempts=1, definition=flow, now=NOW) or "")
