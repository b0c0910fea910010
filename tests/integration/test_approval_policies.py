"""Approval policies end to end at the service layer, on SQLite and PostgreSQL: any / all /
quorum with real members, early rejection, the requester refused, one vote per voter under
concurrency, approver fields and a required rejection comment."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
from sqlmodel import select

from app.db import read_session, write_session
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models import Actor, ApprovalVote, AuditLog, Role, RunStatus
from app.services import accounts, approvals

PEOPLE = ("ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal")


def policy_flow(**policy: Any) -> dict[str, Any]:
    return {"start": "ask", "steps": {
        "ask": {"kind": "approval", "assignees": ["role:approver"], "instructions": "Go?",
                "on_reject": "refused", "next": "after", **policy},
        "after": {"kind": "tool", "tool": "set",
                  "args": {"start": "{{ steps.ask.fields.start_date | default('') }}"},
                  "done": True},
        "refused": {"kind": "tool", "tool": "set", "args": {"refused": True}, "done": True}}}


@pytest.fixture
def approvers(world: Any) -> dict[str, Actor]:
    """Eight approver members besides the world's own."""
    system = Actor.system("tests")
    people = {}
    for name in PEOPLE:
        email = f"{name}@acme.test"
        with write_session() as session:
            user = accounts.create_user(session, email=email, password="password-x")
        with write_session() as session:
            accounts.add_member(session, workspace_id=world.workspace_id, user_id=user.id,
                                role=Role.APPROVER, actor=system)
        people[name] = Actor.user(user_id=user.id, email=email, role=Role.APPROVER,
                                  workspace_id=world.workspace_id)
    return people


def blocked(world: Any, definition: dict[str, Any], actor: Actor | None = None) -> str:
    from app.services.runs import trigger_run

    workflow_id = world.publish(definition)
    with write_session() as session:
        run = trigger_run(session, workspace_id=world.workspace_id, workflow_id=workflow_id,
                          input={}, actor=actor or world.actor).run
    world.drain()
    assert world.run(run.id).status == RunStatus.BLOCKED
    return run.id


def vote(world: Any, run_id: str, actor: Actor, decision: str = "approved",
         **options: Any) -> Any:
    approval = world.approvals(run_id)[0]
    with write_session() as session:
        return approvals.decide_approval(session, workspace_id=world.workspace_id,
                                         approval_id=approval.id, decision=decision,
                                         actor=actor, **options)


def votes_of(world: Any, run_id: str) -> list[ApprovalVote]:
    approval = world.approvals(run_id)[0]
    with read_session() as session:
        return list(session.exec(select(ApprovalVote).where(
            ApprovalVote.approval_id == approval.id)).all())


def test_quorum_of_two_waits_for_the_second_approval(world: Any,
                                                     approvers: dict[str, Actor]) -> None:
    run_id = blocked(world, policy_flow(mode="quorum", quorum=2))
    first = vote(world, run_id, approvers["ann"], comment="fine by me")
    assert first.status == "pending"
    world.drain()
    assert world.run(run_id).status == RunStatus.BLOCKED
    done = vote(world, run_id, approvers["bob"])
    assert done.status == "approved"
    assert done.decided_by == "ann@acme.test, bob@acme.test"
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED and "after" in run.outputs
    output = run.outputs["ask"]
    assert output["decision"] == "approved" and output["mode"] == "quorum"
    assert [v["by"] for v in output["votes"]] == ["ann@acme.test", "bob@acme.test"]
    assert output["votes"][0]["comment"] == "fine by me"


def test_quorum_rejects_once_approval_is_out_of_reach(world: Any,
                                                      approvers: dict[str, Actor]) -> None:
    # 9 approvers may vote (the admin started the run, so is not counted); quorum 8 is out
    # of reach after the second rejection
    run_id = blocked(world, policy_flow(mode="quorum", quorum=8))
    assert vote(world, run_id, approvers["ann"], "rejected").status == "pending"
    assert vote(world, run_id, approvers["bob"], "rejected").status == "rejected"
    world.drain()
    assert world.run(run_id).outputs["refused"] == {"refused": True}


def test_all_needs_every_assignee_and_one_rejection_rejects(world: Any,
                                                            approvers: dict[str, Actor]) -> None:
    flow = policy_flow(mode="all", assignees=["ann@acme.test", "bob@acme.test"])
    run_id = blocked(world, flow)
    assert vote(world, run_id, approvers["ann"]).status == "pending"
    assert vote(world, run_id, approvers["bob"]).status == "approved"
    other = blocked(world, flow)
    assert vote(world, other, approvers["bob"], "rejected").status == "rejected"
    world.drain()
    assert world.run(other).outputs["refused"] == {"refused": True}
    with pytest.raises(Forbidden):  # not listed
        vote(world, blocked(world, flow), approvers["cat"])


def test_the_requester_is_refused_unless_the_policy_allows_them(
        world: Any, approvers: dict[str, Actor]) -> None:
    ann = approvers["ann"]
    run_id = blocked(world, policy_flow(), actor=ann)
    with pytest.raises(Forbidden, match="You started this run"):
        vote(world, run_id, ann)
    assert votes_of(world, run_id) == []
    assert vote(world, run_id, approvers["bob"]).status == "approved"
    allowed = blocked(world, policy_flow(allow_requester=True), actor=ann)
    assert vote(world, allowed, ann).status == "approved"


def test_each_voter_votes_once(world: Any, approvers: dict[str, Actor]) -> None:
    run_id = blocked(world, policy_flow(mode="quorum", quorum=2))
    vote(world, run_id, approvers["ann"])
    with pytest.raises(Conflict, match="already voted"):
        vote(world, run_id, approvers["ann"])
    assert len(votes_of(world, run_id)) == 1


def test_approver_fields_are_required_to_approve_and_reach_later_steps(
        world: Any, approvers: dict[str, Actor]) -> None:
    fields = [{"name": "start_date", "type": "date", "required": True},
              {"name": "cost_centre", "type": "select", "options": ["A", "B"]}]
    run_id = blocked(world, policy_flow(fields=fields))
    with pytest.raises(ValidationFailed) as missing:
        vote(world, run_id, approvers["ann"])
    assert [e.field for e in missing.value.errors] == ["fields.start_date"]
    with pytest.raises(ValidationFailed) as bad:
        vote(world, run_id, approvers["ann"], fields={"start_date": "soon", "cost_centre": "Z"})
    assert {e.field for e in bad.value.errors} == {"fields.start_date", "fields.cost_centre"}
    assert votes_of(world, run_id) == []  # nothing recorded
    assert world.approvals(run_id)[0].status == "pending"
    vote(world, run_id, approvers["ann"], fields={"start_date": "2027-01-04"})
    world.drain()
    run = world.run(run_id)
    assert run.outputs["ask"]["fields"]["start_date"] == "2027-01-04"
    assert run.outputs["after"] == {"start": "2027-01-04"}


def test_a_rejection_may_require_a_comment(world: Any, approvers: dict[str, Actor]) -> None:
    run_id = blocked(world, policy_flow(require_comment_on_reject=True))
    with pytest.raises(ValidationFailed) as missing:
        vote(world, run_id, approvers["ann"], "rejected", comment="  ")
    assert [e.field for e in missing.value.errors] == ["comment"]
    assert vote(world, run_id, approvers["ann"], "rejected",
                comment="budget is frozen").status == "rejected"


def test_eight_concurrent_voters_count_once_each_and_decide_once(
        world: Any, approvers: dict[str, Actor]) -> None:
    run_id = blocked(world, policy_flow(mode="quorum", quorum=3))

    def cast(name: str) -> str:
        try:
            return vote(world, run_id, approvers[name]).status
        except Conflict:
            return "refused"

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(cast, PEOPLE))
    assert outcomes.count("approved") == 1, outcomes
    assert outcomes.count("pending") == 2 and outcomes.count("refused") == 5
    assert len(votes_of(world, run_id)) == 3
    with read_session() as session:
        decided = session.exec(select(AuditLog).where(
            AuditLog.action == "approval.approved")).all()
    assert len(decided) == 1
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert [s.step_key for s in world.steps(run_id)].count("after") == 1


def test_one_voter_eight_times_at_once_is_one_vote(world: Any,
                                                   approvers: dict[str, Actor]) -> None:
    run_id = blocked(world, policy_flow(mode="quorum", quorum=2))

    def cast(_: int) -> str:
        try:
            return vote(world, run_id, approvers["ann"]).status
        except Conflict:
            return "refused"

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(cast, range(8)))
    assert sorted(outcomes) == ["pending"] + ["refused"] * 7
    assert len(votes_of(world, run_id)) == 1
