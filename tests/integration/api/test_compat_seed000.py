"""Seed 000's documented calls, with its exact request bodies (only the host and key differ),
against the demo workspace's Employee onboarding workflow."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.client import FlowdeskClient
from app.db import write_session
from app.models import RunStatus
from app.services import demo
from tests.integration.api.conftest import Tenant, assert_problem, mint
from tests.support import World

# Byte for byte the -d argument of the seed's "Trigger a Workflow Run" curl example.
TRIGGER_BODY = b"""{
    "workflowId": "wf_employee_onboarding",
    "orgId": "org_xxxxxxxx",
    "input": {
      "Full Name": "Jane Doe",
      "Email": "jane@acme.com",
      "Position": "Software Engineer"
    }
  }"""


@pytest.fixture
def demo_tenant(world: World, http: TestClient) -> Tenant:
    with write_session() as session:
        login = demo.seed_demo(session, password="demo-password-1")
    key = mint(login.workspace_id)
    return Tenant(login.workspace_id, key, http, FlowdeskClient(http=http, api_key=key), world)


def trigger(tenant: Tenant, body: bytes = TRIGGER_BODY):  # type: ignore[no-untyped-def]
    # curl -X POST …/api/public/runs/trigger -H "Authorization: Bearer …"
    #      -H "Content-Type: application/json" -d '…'
    return tenant.http.post("/api/public/runs/trigger", content=body, headers={
        "Authorization": f"Bearer {tenant.key}", "Content-Type": "application/json"})


def test_trigger_answers_the_seed_shape(demo_tenant: Tenant) -> None:
    response = trigger(demo_tenant)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"runId", "status", "currentStep", "workflowTitle", "createdAt"}
    assert body["runId"].startswith("run_")
    assert body["status"] == "IN_PROGRESS" and body["currentStep"] == 0
    assert body["workflowTitle"] == "Employee onboarding"
    assert body["createdAt"].endswith("Z")


def test_get_run_follows_the_run_to_completion(demo_tenant: Tenant) -> None:
    run_id = trigger(demo_tenant).json()["runId"]
    # curl …/api/public/runs/run_xxxxxxxxxx -H "Authorization: Bearer …"
    path = f"/api/public/runs/{run_id}"
    headers = {"Authorization": f"Bearer {demo_tenant.key}"}
    assert demo_tenant.world is not None
    demo_tenant.world.drain()
    blocked = demo_tenant.http.get(path, headers=headers).json()
    assert set(blocked) == {"runId", "status", "currentStepIndex", "totalSteps", "completedAt",
                            "outputs"}
    assert blocked["status"] == RunStatus.BLOCKED and blocked["completedAt"] is None
    assert blocked["currentStepIndex"] == 2 and blocked["totalSteps"] == 6
    approval = demo_tenant.fd.approvals.list(run_id=run_id).data[0]
    demo_tenant.another_key().approvals.decide(approval.id, "approved")
    demo_tenant.world.drain()
    done = demo_tenant.http.get(path, headers=headers).json()
    assert done["status"] == RunStatus.COMPLETED and done["completedAt"].endswith("Z")
    assert done["currentStepIndex"] == done["totalSteps"] == 5
    assert done["outputs"]["intake"] == {"Full Name": "Jane Doe", "Email": "jane@acme.com",
                                         "Position": "Software Engineer"}
    assert done["outputs"]["manager"]["decision"] == "approved"


def test_list_workflows_with_the_seed_query(demo_tenant: Tenant) -> None:
    # curl …/api/public/workflows -H "Authorization: Bearer …" -G -d "orgId=org_xxxxxxxx"
    response = demo_tenant.http.get("/api/public/workflows?orgId=org_xxxxxxxx",
                                    headers={"Authorization": f"Bearer {demo_tenant.key}"})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1
    assert body["workflows"] == [{
        "id": body["workflows"][0]["id"], "title": "Employee onboarding",
        "description": "Collect a new hire's details, get a manager's approval, welcome them.",
        "steps": 6, "isPublished": True}]


def test_our_workspace_id_works_as_org_id_and_another_is_refused(demo_tenant: Tenant,
                                                                 globex: Tenant) -> None:
    own = TRIGGER_BODY.replace(b"org_xxxxxxxx", demo_tenant.workspace_id.encode())
    assert trigger(demo_tenant, own).status_code == 200
    other = TRIGGER_BODY.replace(b"org_xxxxxxxx", globex.workspace_id.encode())
    assert assert_problem(trigger(demo_tenant, other), 403)["reason"] == "workspace_mismatch"
    listed = demo_tenant.get(f"/api/public/workflows?orgId={globex.workspace_id}")
    assert_problem(listed, 403)


def test_a_workflow_id_works_as_well_as_the_alias(demo_tenant: Tenant) -> None:
    workflow_id = demo_tenant.get("/api/public/workflows").json()["workflows"][0]["id"]
    body = TRIGGER_BODY.replace(b"wf_employee_onboarding", workflow_id.encode())
    assert trigger(demo_tenant, body).status_code == 200
    unknown = TRIGGER_BODY.replace(b"wf_employee_onboarding", b"wf_no_such_flow")
    assert_problem(trigger(demo_tenant, unknown), 404)


def test_bad_input_and_missing_keys_are_problems(demo_tenant: Tenant) -> None:
    no_email = TRIGGER_BODY.replace(b'"Email": "jane@acme.com",', b"")
    body = assert_problem(trigger(demo_tenant, no_email), 422)
    assert body["errors"][0]["field"] == "input.Email"
    assert_problem(trigger(demo_tenant, b'{"orgId": "x"}'), 422)
    assert_problem(demo_tenant.http.post("/api/public/runs/trigger", content=TRIGGER_BODY), 401)
    assert_problem(demo_tenant.get("/api/public/runs/run_missing"), 404)
