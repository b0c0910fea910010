"""Signed approval links: bound to one approval and approver, expiring, and single-use."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import read_session, write_session
from app.errors import Conflict, Forbidden, NotFound
from app.models import Actor, ApprovalStatus, RunStatus
from app.services import accounts, approval_links


def _link(actor: Actor, approval_id: str, for_user: str) -> str:
    with read_session() as session:
        return approval_links.make_link_token(session, actor=actor, approval_id=approval_id,
                                              approver_user_id=for_user)


def _inspect(token: str) -> approval_links.LinkView:
    with read_session() as session:
        return approval_links.inspect_link(session, token=token)


def _decide(token: str, decision: str = "approved") -> None:
    with write_session() as session:
        approval_links.decide_by_link(session, token=token, decision=decision, comment="ok")


def test_inspecting_a_link_changes_nothing_and_deciding_works_once(
        world: Any, people: dict[str, Actor], blocked_run: str) -> None:
    approval = world.approvals(blocked_run)[0]
    token = _link(people["admin"], approval.id, world.approver_id)
    for _ in range(3):
        view = _inspect(token)
        assert view.state == "open" and view.approver_email == "approver@acme.test"
        assert view.instructions == "Approve Ada" and '"Name": "Ada"' in view.run_input
    assert world.approvals(blocked_run)[0].status == ApprovalStatus.PENDING

    _decide(token)
    world.drain()
    assert world.run(blocked_run).status == RunStatus.COMPLETED
    assert world.approvals(blocked_run)[0].decided_by == "approver@acme.test"
    with pytest.raises(Conflict, match="already used"):
        _decide(token, "rejected")
    assert _inspect(token).state == "decided"


def test_an_expired_or_tampered_link_is_refused(world: Any, people: dict[str, Actor],
                                                blocked_run: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    approval = world.approvals(blocked_run)[0]
    token = _link(people["admin"], approval.id, world.approver_id)
    with pytest.raises(NotFound):
        _inspect(token[:-3] + "xyz")
    monkeypatch.setattr(approval_links, "LINK_TTL_S", -1)
    with pytest.raises(approval_links.Gone):
        _decide(token)
    assert world.approvals(blocked_run)[0].status == ApprovalStatus.PENDING


def test_links_are_only_for_people_who_may_decide(world: Any, people: dict[str, Actor],
                                                  blocked_run: str) -> None:
    approval = world.approvals(blocked_run)[0]
    with pytest.raises(Forbidden):
        _link(people["admin"], approval.id, people["viewer"].id)
    with pytest.raises(Forbidden):  # an approver makes links for themselves only
        _link(people["approver"], approval.id, world.admin_id)
    assert _link(people["approver"], approval.id, world.approver_id)
    with read_session() as session:
        choices = approval_links.eligible_approvers(session, actor=people["admin"],
                                                    approval_id=approval.id)
    assert {c["email"] for c in choices} == {"admin@acme.test", "approver@acme.test"}


def test_a_link_stops_working_when_its_approver_is_demoted(
        world: Any, people: dict[str, Actor], blocked_run: str) -> None:
    approval = world.approvals(blocked_run)[0]
    token = _link(people["admin"], approval.id, world.approver_id)
    with write_session() as session:
        accounts.add_member(session, workspace_id=world.workspace_id, user_id=world.approver_id,
                            role="viewer", actor=Actor.system("tests"))
    with pytest.raises(Forbidden):
        _decide(token)
