"""Approval policies over the API: votes and the policy in the answer, the requester's 403,
approver fields' 422 naming the field (nothing recorded)."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Tenant, assert_problem

ASK: dict[str, Any] = {"start": "ask", "steps": {
    "ask": {"kind": "approval", "assignees": ["role:approver"], "mode": "quorum", "quorum": 2,
            "fields": [{"name": "start_date", "type": "date", "required": True}],
            "next": "after"},
    "after": {"kind": "tool", "tool": "set",
              "args": {"start": "{{ steps.ask.fields.start_date }}"}, "done": True}}}


def test_a_quorum_over_the_api_with_votes_and_fields(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(ASK))
    acme.world.drain()
    approval = acme.fd.approvals.list(run_id=run.id).data[0]
    assert approval.policy.mode == "quorum" and approval.policy.approvals_needed == 2
    assert approval.policy.fields[0]["name"] == "start_date"
    path = f"/api/v1/approvals/{approval.id}/decide"

    own = acme.post(path, json={"decision": "approved", "fields": {"start_date": "2027-01-04"}})
    assert assert_problem(own, 403)["reason"] == "requester"

    first, second = acme.another_key(), acme.another_key()
    missing = first.http.post(path, json={"decision": "approved"},
                              headers={"Authorization": f"Bearer {first.api_key}"})
    assert assert_problem(missing, 422)["errors"][0]["field"] == "fields.start_date"
    assert acme.fd.approvals.get(approval.id).votes == []

    one = first.approvals.decide(approval.id, "approved", fields={"start_date": "2027-01-04"})
    assert one.status == "pending" and one.approvals == 1 and len(one.votes) == 1
    assert one.votes[0].fields == {"start_date": "2027-01-04"} and one.votes[0].via == "api"
    again = first.http.post(path, json={"decision": "approved",
                                        "fields": {"start_date": "2027-01-04"}},
                            headers={"Authorization": f"Bearer {first.api_key}"})
    assert "already voted" in assert_problem(again, 409)["detail"]

    two = second.approvals.decide(approval.id, "approved", fields={"start_date": "2027-02-01"})
    assert two.status == "approved" and two.approvals == 2
    acme.world.drain()
    done = acme.fd.runs.get(run.id)
    assert done.status == "COMPLETED" and done.outputs["after"] == {"start": "2027-02-01"}
    assert len(done.outputs["ask"]["votes"]) == 2


def test_an_invalid_policy_is_a_422_naming_the_field(acme: Tenant) -> None:
    bad = {"start": "ask", "steps": {"ask": {"kind": "approval", "assignees": ["role:x"],
                                             "mode": "quorum", "done": True}}}
    response = acme.post("/api/v1/workflows", json={"title": "Bad", "definition": bad})
    fields = [e["field"] for e in assert_problem(response, 422)["errors"]]
    assert any(f.startswith("definition.steps.ask") for f in fields), fields
