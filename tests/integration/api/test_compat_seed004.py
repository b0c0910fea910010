"""Seed 004's /api/workflow with its documented request bodies, byte for byte: create and
start, list, get with steps and result_json, cancel, release a gate with …/ready, errors."""

from __future__ import annotations

import json

from app.models import RunStatus
from tests.integration.api.conftest import Tenant, assert_problem, mint

CREATE_BODY = b"""{
"name": "my-workflow",
"flow": {
"start": {
"name": "greet",
"tool": "get_greeting",
"args": {},
"next": "count"
},
"count": {
"name": "count",
"tool": "get_counter",
"args": {},
"done": true
}
},
"input": {}
}"""

SEARCH_BODY = b"""{
    "name": "knowledge-search",
    "flow": {
      "start": {
        "name": "search",
        "tool": "knowledge_search",
        "args": {"query": "{{input.topic}}"},
        "done": true
      }
    },
    "input": {"topic": "access control permissions"}
  }"""

APPROVAL_BODY = b"""{
    "name": "write-with-approval",
    "flow": {
      "start": {
        "name": "await_approval",
        "tool": null,
        "args": {},
        "next": "do_write"
      },
      "do_write": {
        "name": "do_write",
        "tool": "knowledge_add",
        "args": {
          "title": "{{input.title}}",
          "content": "{{input.content}}",
          "scope": "general"
        },
        "done": true
      }
    },
    "input": {
      "title": "New Policy",
      "content": "All agents must request approval before writing."
    }
  }"""

BRANCH_BODY = b"""{
    "name": "branch-demo",
    "flow": {
      "start": {
        "name": "check",
        "tool": "is_admin",
        "args": {},
        "branch": [
          {"if": "result == true", "then": "admin_path"},
          {"if": "result == false", "then": "user_path"}
        ]
      },
      "admin_path": {
        "name": "admin_path",
        "tool": "get_greeting",
        "args": {"name": "World"},
        "done": true
      },
      "user_path": {
        "name": "user_path",
        "tool": "get_counter",
        "args": {},
        "done": true
      }
    },
    "input": {}
  }"""


def post(tenant: Tenant, body: bytes):  # type: ignore[no-untyped-def]
    # curl -X POST …/api/workflow -H "Content-Type: application/json"
    #      -H "Authorization: Bearer <token>" -d '…'
    return tenant.http.post("/api/workflow", content=body, headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {tenant.key}"})


def get(tenant: Tenant, path: str) -> dict:  # type: ignore[type-arg]
    response = tenant.http.get(path, headers={"Authorization": f"Bearer {tenant.key}"})
    assert response.status_code == 200, response.text
    return response.json()


def start(tenant: Tenant, body: bytes) -> int:
    response = post(tenant, body)
    assert response.status_code == 200, response.text
    started = response.json()
    assert set(started) == {"id", "status"} and started["status"] == "started"
    assert isinstance(started["id"], int)
    return started["id"]


def test_create_and_start_runs_the_flow_to_completion(acme: Tenant) -> None:
    number = start(acme, CREATE_BODY)
    assert acme.world is not None
    acme.world.drain()
    flow = get(acme, f"/api/workflow/{number}")
    assert flow["id"] == number and flow["name"] == "my-workflow"
    assert flow["status"] == "completed" and flow["created_by"] == acme.key[:12]
    assert [(s["name"], s["tool"], s["status"], s["attempt"]) for s in flow["steps"]] == [
        ("greet", "get_greeting", "done", 1), ("count", "get_counter", "done", 1)]
    greet = flow["steps"][0]
    assert json.loads(greet["result_json"]) == {"greeting": "Hello, there!"}
    assert isinstance(greet["id"], int) and greet["id"] != number
    assert greet["started_at"] <= greet["completed_at"]
    assert isinstance(flow["completed_at"], int) and flow["cancelled_at"] is None


def test_input_placeholders_reach_the_tool(acme: Tenant) -> None:
    number = start(acme, SEARCH_BODY)
    acme.world.drain()  # type: ignore[union-attr]
    flow = get(acme, f"/api/workflow/{number}")
    assert flow["status"] == "completed"
    hits = json.loads(flow["steps"][0]["result_json"])
    assert hits[0]["title"] == "Access Control" and hits[0]["score"] > 0.5


def test_an_approval_gate_waits_for_ready(acme: Tenant) -> None:
    number = start(acme, APPROVAL_BODY)
    acme.world.drain()  # type: ignore[union-attr]
    flow = get(acme, f"/api/workflow/{number}")
    assert flow["status"] == "running"
    gate = flow["steps"][0]
    assert gate["name"] == "await_approval" and gate["tool"] is None
    assert gate["status"] == "running"  # awaiting the external ready signal
    # curl -X POST …/api/workflow/<step id>/ready -H "Authorization: Bearer <token>"
    ready = acme.http.post(f"/api/workflow/{gate['id']}/ready",
                           headers={"Authorization": f"Bearer {acme.key}"})
    assert ready.status_code == 200 and ready.json() == {"queued": True}
    acme.world.drain()  # type: ignore[union-attr]
    done = get(acme, f"/api/workflow/{number}")
    assert done["status"] == "completed" and done["steps"][1]["status"] == "done"
    assert json.loads(done["steps"][1]["result_json"])["title"] == "New Policy"
    again = acme.http.post(f"/api/workflow/{gate['id']}/ready",
                           headers={"Authorization": f"Bearer {acme.key}"})
    assert assert_problem(again, 409)["error"]


def test_a_branch_routes_on_the_tools_result(acme: Tenant) -> None:
    number = start(acme, BRANCH_BODY)
    acme.world.drain()  # type: ignore[union-attr]
    flow = get(acme, f"/api/workflow/{number}")
    assert flow["status"] == "completed"
    assert [s["name"] for s in flow["steps"]] == ["check", "user_path"]
    assert flow["steps"][0]["result_json"] == "false"


def test_list_is_newest_first_with_a_limit(acme: Tenant) -> None:
    numbers = [start(acme, CREATE_BODY), start(acme, SEARCH_BODY), start(acme, BRANCH_BODY)]
    listed = get(acme, "/api/workflow")
    assert [item["id"] for item in listed] == list(reversed(numbers))
    assert set(listed[0]) == {"id", "name", "status", "created_by", "created_at",
                              "updated_at", "completed_at", "cancelled_at"}
    assert listed[0]["name"] == "branch-demo" and listed[0]["status"] == "running"
    assert [item["id"] for item in get(acme, "/api/workflow?limit=2")] == numbers[:0:-1]


def test_delete_cancels_the_workflow(acme: Tenant) -> None:
    number = start(acme, APPROVAL_BODY)
    # curl -X DELETE …/api/workflow/<id> -H "Authorization: Bearer <token>"
    response = acme.http.delete(f"/api/workflow/{number}",
                                headers={"Authorization": f"Bearer {acme.key}"})
    assert response.status_code == 200 and response.json() == {"cancelled": True}
    flow = get(acme, f"/api/workflow/{number}")
    assert flow["status"] == "cancelled" and isinstance(flow["cancelled_at"], int)
    run_id = acme.fd.runs.list().data[0].id
    assert acme.fd.runs.get(run_id).status == RunStatus.CANCELLED


def test_errors_carry_the_seed_error_member(acme: Tenant) -> None:
    missing_name = post(acme, b'{"flow": {"start": {"tool": "get_counter", "done": true}}}')
    assert assert_problem(missing_name, 400)["error"] == "Missing required field: name"
    no_start = post(acme, b'{"name": "x", "flow": {"greet": {"tool": "get_greeting"}}}')
    assert assert_problem(no_start, 422)["error"] == "Flow must have a 'start' key"
    unknown_tool = post(acme, b'{"name": "x", "flow": {"start": {"tool": "launch_rockets"}}}')
    assert "launch_rockets" in assert_problem(unknown_tool, 422)["error"]
    assert assert_problem(acme.get("/api/workflow/999999"), 404)["error"]
    assert assert_problem(acme.request("DELETE", "/api/workflow/999999"), 404)["error"]


def test_a_key_without_the_permission_is_403(acme: Tenant) -> None:
    reader = mint(acme.workspace_id, scopes=["runs:read"])
    response = acme.post("/api/workflow", key=reader, content=CREATE_BODY,
                         headers={"Content-Type": "application/json"})
    body = assert_problem(response, 403)
    assert body["error"] and body["missing_scope"] == "workflows:write"


def test_one_transaction_creates_publishes_and_starts(acme: Tenant) -> None:
    start(acme, CREATE_BODY)
    workflow = acme.fd.workflows.list().data[0]
    assert workflow.title == "my-workflow" and workflow.published_version == 1
    run = acme.fd.runs.list().data[0]
    assert run.workflow_id == workflow.id and run.trigger == "api"
    actions = [event.action for event in acme.fd.audit.list().data]
    assert actions[:3] == ["run.triggered", "workflow.published", "workflow.created"]
    # A failing flow leaves nothing behind.
    post(acme, b'{"name": "bad", "flow": {"start": {"tool": "nope"}}}')
    assert len(acme.fd.workflows.list().data) == 1
