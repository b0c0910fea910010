"""Out of office over the API: a key acts for the member it names in `user`; the member's
pending items are delegated for the range, refusals are problems naming the field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.clock import utcnow
from app.models import Role
from tests.integration.api.conftest import Tenant, assert_problem, mint

ASK: dict[str, Any] = {"start": "ask", "steps": {
    "ask": {"kind": "approval", "assignees": ["ann@acme.test"], "next": "after"},
    "after": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True}}}
PATH = "/api/v1/me/out-of-office"


def test_a_key_sets_reads_and_clears_a_members_out_of_office(acme: Tenant) -> None:
    assert acme.world is not None
    acme.world.member("ann")
    acme.world.member("cat")
    run = acme.fd.runs.trigger(acme.publish(ASK))
    acme.world.drain()
    assert acme.fd.out_of_office.get("ann@acme.test").delegate_email is None
    ends = utcnow() + timedelta(days=3)
    shown = acme.fd.out_of_office.set("ann@acme.test", delegate_email="cat@acme.test",
                                      ends_at=ends)
    assert shown.active and shown.delegate_email == "cat@acme.test"
    assert shown.ends_at is not None and abs((shown.ends_at - ends).total_seconds()) < 1
    assert acme.fd.out_of_office.get("ANN@acme.test") == shown
    (approval,) = acme.fd.approvals.list(run_id=run.id).data
    assert [(d["from"], d["to_email"], d["reason"]) for d in approval.delegations] == [
        ("ann@acme.test", "cat@acme.test", "out_of_office")]
    assert approval.delegations[0]["ends_at"] is not None
    assert [a.id for a in acme.fd.approvals.list(delegated_to="cat@acme.test").data] == [
        approval.id]
    acme.fd.out_of_office.clear("ann@acme.test")
    assert acme.fd.out_of_office.get("ann@acme.test").delegate_email is None
    for action in ("member.out_of_office_set", "member.out_of_office_cleared"):
        (entry,) = acme.fd.audit.list(action=action).data
        assert entry.actor.type == "api_key" and entry.details["user"] == "ann@acme.test"


def test_refusals_name_the_field(acme: Tenant) -> None:
    assert acme.world is not None
    acme.world.member("ann")
    acme.world.member("cat")
    acme.world.member("vic", Role.VIEWER)
    ends = (utcnow() + timedelta(days=1)).isoformat()
    nobody = acme.request("PUT", PATH, json={"user": "nobody@acme.test",
                                             "delegate_email": "ann@acme.test",
                                             "ends_at": ends})
    assert assert_problem(nobody, 422)["errors"][0]["field"] == "user"
    viewer = acme.request("PUT", PATH, json={"user": "ann@acme.test",
                                             "delegate_email": "vic@acme.test",
                                             "ends_at": ends})
    assert assert_problem(viewer, 422)["errors"][0]["field"] == "delegate_email"
    backwards = acme.request("PUT", PATH, json={
        "user": "ann@acme.test", "delegate_email": "cat@acme.test", "ends_at": ends,
        "starts_at": (utcnow() + timedelta(days=2)).isoformat()})
    assert assert_problem(backwards, 422)["errors"][0] == {
        "field": "ends_at", "message": "must be after the start", "code": "invalid"}
    missing = acme.request("PUT", PATH, json={"user": "ann@acme.test",
                                              "delegate_email": "cat@acme.test"})
    assert assert_problem(missing, 422)["errors"][0]["field"] == "ends_at"
    cannot_decide = acme.request("PUT", PATH, json={"user": "vic@acme.test",
                                                    "delegate_email": "ann@acme.test",
                                                    "ends_at": ends})
    assert_problem(cannot_decide, 403)
    no_user = acme.get(PATH)
    assert assert_problem(no_user, 422)["errors"][0]["field"] == "user"


def test_reading_needs_runs_read_and_writing_approvals_write(acme: Tenant) -> None:
    assert acme.world is not None
    acme.world.member("ann")
    reader = mint(acme.workspace_id, ["runs:read"])
    assert acme.get(PATH, params={"user": "ann@acme.test"}, key=reader).status_code == 200
    refused = acme.request("DELETE", PATH, params={"user": "ann@acme.test"}, key=reader)
    assert assert_problem(refused, 403)["missing_scope"] == "approvals:write"
