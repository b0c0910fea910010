"""Delegation and reassignment, on SQLite and PostgreSQL: the delegate votes in the
delegator's place (counted as theirs by the policy), refusals name what is wrong, an admin
reassigns."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.db import read_session, write_session
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models import Actor, Event, Role, RunStatus
from app.services import approval_delegation, approvals, inbox


def member(world: Any, name: str, role: str = Role.APPROVER) -> Actor:
    return world.member(name, role)  # type: ignore[no-any-return]


def blocked(world: Any, **policy: Any) -> tuple[str, str]:
    definition = {"start": "ask", "steps": {
        "ask": {"kind": "approval", "assignees": ["ann@acme.test", "role:approver"],
                "next": "done", **policy},
        "done": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True}}}
    run_id = world.trigger(world.publish(definition))
    world.drain()
    return run_id, world.approvals(run_id)[0].id


def vote(world: Any, approval_id: str, actor: Actor) -> str:
    with write_session() as session:
        return approvals.decide_approval(session, workspace_id=world.workspace_id,
                                         approval_id=approval_id, decision="approved",
                                         actor=actor).status


def delegate(actor: Actor, approval_id: str, to: str) -> Any:
    with write_session() as session:
        return approval_delegation.delegate(session, actor=actor, approval_id=approval_id,
                                            to_email=to)


def test_the_delegate_votes_in_the_delegators_place(world: Any) -> None:
    ann, bob = member(world, "ann"), member(world, "bob", Role.VIEWER)
    cat = member(world, "cat")
    run_id, approval_id = blocked(world, mode="all")
    with pytest.raises(ValidationFailed) as refused:  # a viewer cannot decide approvals
        delegate(ann, approval_id, "bob@acme.test")
    assert refused.value.errors[0].field == "to" and "viewer" in refused.value.errors[0].message
    assert bob.role == Role.VIEWER
    dan = member(world, "dan", Role.BUILDER)
    with pytest.raises(ValidationFailed):
        delegate(ann, approval_id, "dan@acme.test")
    assert dan.role == Role.BUILDER
    delegated = delegate(ann, approval_id, "cat@acme.test")
    assert delegated.delegations[0]["to_email"] == "cat@acme.test"
    with pytest.raises(Conflict, match="delegated"):
        vote(world, approval_id, ann)  # ann handed her vote on
    # cat's vote fills ann's own entry of `all`; the role entry still needs an approver
    assert vote(world, approval_id, cat) == "pending"
    assert vote(world, approval_id, world.approver) == "approved"
    world.drain()
    assert world.run(run_id).status == RunStatus.COMPLETED
    labels = [v["by"] for v in world.run(run_id).outputs["ask"]["votes"]]
    assert labels == ["cat@acme.test for ann@acme.test", "approver@acme.test"]
    with read_session() as session:
        (event,) = session.exec(select(Event).where(Event.type == "approval.delegated")).all()
    assert event.payload["data"]["to"] == "cat@acme.test"


def test_the_delegate_sees_the_item_in_their_inbox(world: Any) -> None:
    ann = member(world, "ann")
    eve = member(world, "eve", Role.ADMIN)
    _, approval_id = blocked(world, assignees=["ann@acme.test"])
    delegate(ann, approval_id, "eve@acme.test")
    with read_session() as session:
        (item,) = [i for i in inbox.pending_for(session, actor=eve) if i.id == approval_id]
    assert item.can_decide


def test_only_an_assignee_who_has_not_voted_may_delegate(world: Any) -> None:
    ann, dan = member(world, "ann"), member(world, "dan", Role.BUILDER)
    member(world, "cat")
    _, approval_id = blocked(world, mode="quorum", quorum=2)
    with pytest.raises(Forbidden):
        delegate(dan, approval_id, "ann@acme.test")  # dan is not an assignee
    vote(world, approval_id, ann)
    with pytest.raises(Conflict, match="already voted"):
        delegate(ann, approval_id, "cat@acme.test")
    key = Actor.api_key(key_id="key_1", prefix="fdk_x", workspace_id=world.workspace_id,
                        scopes=frozenset())
    with pytest.raises(ValidationFailed, match=r"names an assignee|named assignee"):
        delegate(key, approval_id, "cat@acme.test")  # a key says for whom it delegates
    with write_session() as session, pytest.raises(Conflict, match="already voted"):
        approval_delegation.delegate(session, actor=key, approval_id=approval_id,
                                     to_email="cat@acme.test", from_email="ann@acme.test")


def test_an_admin_reassigns_a_pending_approval(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    _, approval_id = blocked(world, assignees=["ann@acme.test"])
    with write_session() as session, pytest.raises(Forbidden):
        approval_delegation.reassign(session, actor=ann, approval_id=approval_id,
                                     assignees=["cat@acme.test"])
    with write_session() as session, pytest.raises(ValidationFailed) as bad:
        approval_delegation.reassign(session, actor=world.actor, approval_id=approval_id,
                                     assignees=["role:wizard"])
    assert bad.value.errors[0].field.startswith("assignees")
    with write_session() as session:
        approval_delegation.reassign(session, actor=world.actor, approval_id=approval_id,
                                     assignees=["cat@acme.test"])
    with pytest.raises(Forbidden):
        vote(world, approval_id, ann)
    assert vote(world, approval_id, cat) == "approved"


def _item(actor: Actor, approval_id: str) -> Any:
    with read_session() as session:
        (item,) = [i for i in inbox.pending_for(session, actor=actor) if i.id == approval_id]
        return item, inbox.count_pending_for(session, actor=actor)


def test_the_inbox_tabs_and_badge_follow_the_delegation(world: Any) -> None:
    ann, cat = member(world, "ann"), member(world, "cat")
    _, approval_id = blocked(world, mode="all")  # ann by name, cat through the approver role
    mine, mine_count = _item(ann, approval_id)
    team, _ = _item(cat, approval_id)
    assert (mine.scope, team.scope) == ("mine", "team")
    assert mine.can_delegate and mine.can_decide and mine_count >= 1
    dan = member(world, "dan")
    delegate(ann, approval_id, "dan@acme.test")
    handed, handed_count = _item(ann, approval_id)
    assert handed.scope == "mine" and handed.delegated_to == "dan@acme.test"
    assert not handed.can_decide and not handed.can_delegate
    assert handed_count == mine_count - 1  # no longer waiting for ann
    received, received_count = _item(dan, approval_id)
    assert received.scope == "delegated" and received.delegated_from == "ann@acme.test"
    assert received.can_decide and not received.can_delegate
    vote(world, approval_id, dan)
    after, after_count = _item(dan, approval_id)  # `all` waits for the approver role
    assert after.my_vote == "approved" and not after.can_decide
    assert after_count == received_count - 1
