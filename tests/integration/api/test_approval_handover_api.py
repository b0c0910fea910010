"""Delegate, reassign and the inbox filters over the API: an integrator (a chat bot, a
portal) acts for a named assignee; refusals are problems naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.clock import utcnow
from app.db import write_session
from app.models import Approval
from app.services import approvals
from tests.integration.api.conftest import Tenant, assert_problem
from tests.integration.test_approval_delegation import member

ASK: dict[str, Any] = {"start": "ask", "steps": {
    "ask": {"kind": "approval", "assignees": ["ann@acme.test", "fin@acme.test"],
            "mode": "all", "next": "after"},
    "after": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True}}}


def _pending(acme: Tenant, assignees: list[str] | None = None) -> tuple[str, str]:
    definition = ASK if assignees is None else {**ASK, "steps": {
        **ASK["steps"], "ask": {**ASK["steps"]["ask"], "assignees": assignees}}}
    run = acme.fd.runs.trigger(acme.publish(definition))
    assert acme.world is not None
    acme.world.drain()
    (approval,) = acme.fd.approvals.list(run_id=run.id).data
    return run.id, approval.id


def _ids(page: Any) -> list[str]:
    return [item.id for item in page.data]


def test_a_key_delegates_for_an_assignee_and_the_delegate_decides(acme: Tenant) -> None:
    assert acme.world is not None
    member(acme.world, "ann")
    cat = member(acme.world, "cat")
    fin = member(acme.world, "fin")
    run_id, approval_id = _pending(acme)
    path = f"/api/v1/approvals/{approval_id}/delegate"

    missing = acme.post(path, json={"to": "cat@acme.test"})
    assert assert_problem(missing, 422)["errors"][0]["field"] == "from"
    stranger = acme.post(path, json={"from": "cat@acme.test", "to": "ann@acme.test"})
    assert "not an assignee" in assert_problem(stranger, 403)["detail"]
    unknown = acme.post(path, json={"from": "ann@acme.test", "to": "nobody@acme.test"})
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "to"

    handed = acme.fd.approvals.delegate(approval_id, from_="ann@acme.test", to="cat@acme.test")
    assert handed.status == "pending"
    assert _ids(acme.fd.approvals.list(delegated_to="cat@acme.test")) == [approval_id]
    assert _ids(acme.fd.approvals.list(delegated_to="CAT@acme.test")) == [approval_id]
    assert _ids(acme.fd.approvals.list(delegated_to="fin@acme.test")) == []
    again = acme.post(path, json={"from": "ann@acme.test", "to": "cat@acme.test"})
    assert_problem(again, 409)

    with write_session() as session:  # cat votes as ann; the finance role votes too
        for actor in (cat, fin):
            approvals.decide_approval(session, workspace_id=acme.workspace_id,
                                      approval_id=approval_id, decision="approved",
                                      actor=actor)
    decided = acme.fd.approvals.get(approval_id)
    assert decided.status == "approved"
    assert [vote.by for vote in decided.votes] == ["cat@acme.test for ann@acme.test",
                                                   "fin@acme.test"]
    acme.world.drain()
    assert acme.fd.runs.get(run_id).status == "COMPLETED"


def test_filters_mine_my_roles_and_overdue(acme: Tenant) -> None:
    _, first = _pending(acme, ["ann@acme.test", "role:approver"])
    _, second = _pending(acme, ["user:ann@acme.test", "role:approver"])
    listed = acme.fd.approvals.list
    assert set(_ids(listed(assignee="ann@acme.test"))) == {first, second}
    assert set(_ids(listed(assignee="Ann@Acme.test", status="pending"))) == {first, second}
    assert set(_ids(listed(assignee="role:approver"))) == {first, second}
    assert _ids(listed(assignee="role:approve")) == []  # a role is matched whole
    assert _ids(listed(assignee="an_@acme.test")) == []  # LIKE wildcards are literal
    assert _ids(listed(overdue=True)) == []
    with write_session() as session:
        row = session.get(Approval, first)
        assert row is not None
        row.due_at = utcnow() - timedelta(minutes=5)
        session.add(row)
        session.commit()
    assert _ids(listed(overdue=True)) == [first]
    assert set(_ids(listed(overdue=False))) == {first, second}
    bad = acme.get("/api/v1/approvals", params={"assignee": "not an email"})
    assert assert_problem(bad, 422)["errors"][0]["field"] == "assignee"


def test_reassign_replaces_the_assignees_and_is_validated(acme: Tenant) -> None:
    _, approval_id = _pending(acme)
    path = f"/api/v1/approvals/{approval_id}/reassign"
    bad = acme.post(path, json={"assignees": ["role:"]})
    assert assert_problem(bad, 422)["errors"]
    moved = acme.fd.approvals.reassign(approval_id, ["role:approver", "bob@acme.test"])
    assert moved.assignees == ["role:approver", "bob@acme.test"]
    assert _ids(acme.fd.approvals.list(assignee="ann@acme.test")) == []
    assert _ids(acme.fd.approvals.list(assignee="bob@acme.test")) == [approval_id]
