"""Hand-over: a request's new step is leased to this process's executor in the request's own
commit and handed to it after the commit; without a free slot, or on a rollback, it stays
pending for any worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.db import write_session
from app.engine import handover
from app.engine.executor import Executor
from app.models import RunStatus, StepStatus
from app.repo.steps import Claim
from app.services import approvals
from app.services.runs import start_new_run

QUICK = {"start": "a", "steps": {"a": {"kind": "tool", "tool": "set", "args": {"x": 1}}}}
ASK = {"start": "ask", "steps": {
    "ask": {"kind": "approval", "assignees": ["role:approver"], "next": "after"},
    "after": {"kind": "tool", "tool": "set", "args": {"done": True}}}}


class Taker:
    """An executor's side of the hand-over, recorded (the test runs the claims itself)."""

    def __init__(self, slots: int) -> None:
        self.owner = "this-process"
        self.lease_s = 30.0
        self.slots = slots
        self.taken: list[Claim] = []

    def reserve(self) -> bool:
        if self.slots == 0:
            return False
        self.slots -= 1
        return True

    def unreserve(self) -> None:
        self.slots += 1

    def take(self, claim: Claim) -> None:
        self.taken.append(claim)


@pytest.fixture
def taker() -> Iterator[Taker]:
    recorded = Taker(slots=2)
    handover.set_taker(recorded)
    yield recorded
    handover.set_taker(None)


def test_a_trigger_hands_its_first_step_to_this_process_after_the_commit(
        world: Any, taker: Taker) -> None:
    run_id = world.trigger(world.publish(QUICK))
    (claim,) = taker.taken
    (step,) = world.steps(run_id)
    assert (claim.run_id, claim.step_id, claim.attempt) == (run_id, step.id, 1)
    assert step.status == StepStatus.RUNNING
    assert (step.lease_owner, step.lease_token) == ("this-process", claim.token)
    assert world.executor.claim(10) == []  # leased: no other worker takes it
    world.executor.run_claim(claim)
    assert world.run(run_id).status == RunStatus.COMPLETED
    assert world.run(run_id).outputs == {"a": {"x": 1}}


def test_without_a_free_slot_the_step_stays_pending_for_any_worker(
        world: Any, taker: Taker) -> None:
    taker.slots = 0
    run_id = world.trigger(world.publish(QUICK))
    assert taker.taken == []
    assert world.steps(run_id)[0].status == StepStatus.PENDING
    world.drain()
    assert world.run(run_id).status == RunStatus.COMPLETED


def test_a_rollback_hands_nothing_over_and_gives_the_slot_back(
        world: Any, taker: Taker) -> None:
    workflow_id = world.publish(QUICK)
    with write_session() as session, handover.begin() as hand:
        start_new_run(session, workspace_id=world.workspace_id, workflow_id=workflow_id,
                      input={}, actor=world.actor, hand=hand)
        assert taker.slots == 1
        session.rollback()
    assert taker.taken == [] and taker.slots == 2


def test_a_start_without_a_hand_over_leaves_the_step_pending(world: Any, taker: Taker) -> None:
    workflow_id = world.publish(QUICK)
    with write_session() as session:
        run_id = start_new_run(session, workspace_id=world.workspace_id,
                               workflow_id=workflow_id, input={}, actor=world.actor).id
        session.commit()
    assert taker.taken == [] and taker.slots == 2
    assert world.steps(run_id)[0].status == StepStatus.PENDING


def test_a_decision_hands_the_next_step_over(world: Any, taker: Taker) -> None:
    taker.slots = 0  # the approval step itself goes through a claim
    run_id = world.trigger(world.publish(ASK))
    world.drain()
    assert world.run(run_id).status == RunStatus.BLOCKED
    taker.slots = 1
    approval = world.approvals(run_id)[0]
    with write_session() as session:
        approvals.decide_approval(session, workspace_id=world.workspace_id,
                                  approval_id=approval.id, decision="approved",
                                  actor=world.approver)
    (claim,) = taker.taken
    assert claim.step_key == "after"
    world.executor.run_claim(claim)
    assert world.run(run_id).status == RunStatus.COMPLETED


def test_a_step_handed_to_a_stopping_executor_is_given_back_pending(world: Any) -> None:
    executor = world.executor
    workflow_id = world.publish(QUICK)
    with write_session() as session, handover.begin(executor) as hand:
        run_id = start_new_run(session, workspace_id=world.workspace_id,
                               workflow_id=workflow_id, input={}, actor=world.actor,
                               hand=hand).id
        assert executor.in_flight == 1  # the step's slot is reserved
        executor.stop()  # the process stops between the reservation and the commit
        hand.commit(session)
    (step,) = world.steps(run_id)
    assert (step.status, step.attempt, step.lease_token, step.started_at) == (
        StepStatus.PENDING, 0, None, None)
    assert executor.in_flight == 0
    other = Executor(http=None, owner="another-worker", clock=world.now)
    assert [claim.run_id for claim in other.claim(10)] == [run_id]
