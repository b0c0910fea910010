"""Seed 002's documented calls at its base URL (/v1), with its exact bodies (only the host
and key differ), answering `{"success": true, "data", "meta"}`, and its error envelope
`{"success": false, "error": {"code", "message", "details"}}` with its codes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.api.errors import seed002_error
from app.settings import reset_settings
from tests.integration.api.conftest import Tenant, mint

AUTH = "Bearer {key}"
# Seed 002's "Lead Notification": the lead's email and name, then a (local) notification.
GRAPH = {"nodes": [
    {"id": "lead", "type": "input", "data": {"fields": [
        {"name": "email", "type": "email", "required": True},
        {"name": "name", "type": "text", "required": True}]}},
    {"id": "notify", "type": "tool", "data": {"tool": "set", "args": {"sent": True}}}],
    "edges": [{"source": "lead", "target": "notify"}]}


def call(tenant: Tenant, method: str, path: str, body: bytes | None = None,
         key: str | None = None) -> httpx.Response:
    # curl -X <METHOD> https://api.yourapp.com/v1/… -H "Authorization: Bearer YOUR_API_KEY"
    #      [-H "Content-Type: application/json" -d '…']
    headers = {"Authorization": AUTH.format(key=key or tenant.key)}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return tenant.http.request(method, path, content=body, headers=headers)


def success(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and set(body) == {"success", "data", "meta"}
    return body


def failure(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and set(body) == {"success", "error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return dict(body["error"])


def a_workflow(tenant: Tenant, *, published: bool = True) -> str:
    created = tenant.http.post("/v1/workflows", json={"name": "Lead Notification", **GRAPH},
                               headers={"Authorization": f"Bearer {tenant.key}"})
    workflow_id = str(success(created, 201)["data"]["id"])
    if published:
        success(tenant.http.patch(f"/v1/workflows/{workflow_id}", json={"status": "published"},
                                  headers={"Authorization": f"Bearer {tenant.key}"}))
    return workflow_id


def execute(tenant: Tenant, workflow_id: str) -> dict[str, Any]:
    body = b"""{
  "input": {
    "email": "user@example.com",
    "name": "John Doe"
  }
}"""
    return dict(success(call(tenant, "POST", f"/v1/workflows/{workflow_id}/execute", body),
                        201)["data"])


# ---------------------------------------------------------------- workflows


def test_the_authentication_example_lists_workflows(acme: Tenant) -> None:
    # curl https://api.yourapp.com/v1/workflows -H "Authorization: Bearer YOUR_API_KEY"
    a_workflow(acme)
    body = success(call(acme, "GET", "/v1/workflows"))
    assert [set(w) for w in body["data"]] == [{"id", "name", "status", "created_at",
                                               "updated_at"}]
    assert body["data"][0]["name"] == "Lead Notification"
    assert body["data"][0]["status"] == "published"
    assert body["meta"]["total"] == 1


def test_list_workflows_takes_page_limit_status_and_search(acme: Tenant) -> None:
    for _ in range(3):
        a_workflow(acme)
    a_workflow(acme, published=False)
    body = success(call(acme, "GET", "/v1/workflows?page=2&limit=2&status=published"
                                     "&search=lead"))
    assert len(body["data"]) == 1
    assert body["meta"] == {"page": 2, "limit": 2, "total": 3, "has_more": False}
    drafts = success(call(acme, "GET", "/v1/workflows?status=draft"))
    assert [w["status"] for w in drafts["data"]] == ["draft"]


def test_create_workflow_with_the_seed_body_makes_an_empty_draft(acme: Tenant) -> None:
    body = b"""{
  "name": "New Workflow",
  "description": "Workflow description",
  "nodes": [],
  "edges": []
}"""
    data = success(call(acme, "POST", "/v1/workflows", body), 201)["data"]
    assert data["name"] == "New Workflow" and data["description"] == "Workflow description"
    assert data["status"] == "draft" and data["nodes"] == [] and data["edges"] == []


def test_get_workflow_answers_nodes_edges_and_variables(acme: Tenant) -> None:
    workflow_id = a_workflow(acme)
    data = success(call(acme, "GET", f"/v1/workflows/{workflow_id}"))["data"]
    assert {"id", "name", "description", "status", "nodes", "edges", "variables",
            "created_at"} <= set(data)
    assert [(n["id"], n["type"]) for n in data["nodes"]] == [("lead", "input"),
                                                              ("notify", "tool")]
    assert data["nodes"][1]["data"]["args"] == {"sent": True}
    assert [(e["source"], e["target"]) for e in data["edges"]] == [("lead", "notify")]
    assert data["variables"] == {}


def test_nodes_and_edges_round_trip_through_the_definition(acme: Tenant) -> None:
    graph = {"name": "Two steps", "nodes": [
        {"id": "first", "type": "tool", "data": {"tool": "set", "args": {"a": 1}}},
        {"id": "second", "type": "tool", "data": {"tool": "set", "args": {"b": 2}}}],
        "edges": [{"source": "first", "target": "second"}]}
    created = acme.http.post("/v1/workflows", json=graph, headers=acme.headers())
    data = success(created, 201)["data"]
    assert [n["id"] for n in data["nodes"]] == ["first", "second"]
    assert data["edges"] == [{"id": "first:next", "source": "first", "target": "second",
                              "label": "next"}]
    stored = acme.get(f"/api/v1/workflows/{data['id']}").json()["definition"]
    assert stored["start"] == "first" and stored["steps"]["first"]["next"] == "second"


def test_an_edge_from_no_node_is_a_validation_error_naming_it(acme: Tenant) -> None:
    graph = {"name": "Broken", "nodes": [{"id": "a", "type": "tool", "data": {"tool": "set"}}],
             "edges": [{"source": "ghost", "target": "a"}]}
    error = failure(acme.http.post("/v1/workflows", json=graph, headers=acme.headers()),
                    422, "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["field"] == "edges[0]"


def test_update_workflow_with_the_seed_body_renames_and_publishes(acme: Tenant) -> None:
    workflow_id = a_workflow(acme, published=False)
    body = b"""{
  "name": "Updated Name",
  "status": "published"
}"""
    data = success(call(acme, "PATCH", f"/v1/workflows/{workflow_id}", body))["data"]
    assert data["name"] == "Updated Name" and data["status"] == "published"


def test_delete_workflow(acme: Tenant) -> None:
    workflow_id = a_workflow(acme)
    assert success(call(acme, "DELETE", f"/v1/workflows/{workflow_id}"))["data"] == {
        "id": workflow_id, "deleted": True}
    failure(call(acme, "GET", f"/v1/workflows/{workflow_id}"), 404, "NOT_FOUND")


# ---------------------------------------------------------------- executions


def test_execute_answers_the_execution_id_and_running(acme: Tenant) -> None:
    data = execute(acme, a_workflow(acme))
    assert set(data) == {"execution_id", "status", "started_at"}
    assert data["status"] == "running" and data["started_at"].endswith("Z")


def test_get_execution_status_follows_it_to_completed_with_output_and_logs(
        acme: Tenant) -> None:
    started = execute(acme, a_workflow(acme))
    assert acme.world is not None
    acme.world.drain()
    data = success(call(acme, "GET", f"/v1/executions/{started['execution_id']}"))["data"]
    assert {"id", "workflow_id", "status", "started_at", "completed_at", "output",
            "logs"} <= set(data)
    assert data["status"] == "completed" and data["completed_at"] is not None
    assert data["output"]["notify"] == {"sent": True}
    assert [(log["step"], log["status"]) for log in data["logs"]] == [("lead", "done"),
                                                                      ("notify", "done")]


def test_list_executions_of_a_workflow_filters_by_status_and_dates(acme: Tenant) -> None:
    workflow_id = a_workflow(acme)
    started = execute(acme, workflow_id)
    assert acme.world is not None
    acme.world.drain()
    path = (f"/v1/workflows/{workflow_id}/executions?status=completed"
            "&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z")
    assert [e["id"] for e in success(call(acme, "GET", path))["data"]] == [
        started["execution_id"]]
    running = f"/v1/workflows/{workflow_id}/executions?status=running"
    assert success(call(acme, "GET", running))["data"] == []
    failure(call(acme, "GET", f"/v1/workflows/{workflow_id}/executions?status=asleep"),
            422, "VALIDATION_ERROR")


def test_executions_page_by_cursor(acme: Tenant) -> None:
    workflow_id = a_workflow(acme)
    ids = [execute(acme, workflow_id)["execution_id"] for _ in range(3)][::-1]
    first = success(call(acme, "GET", "/v1/executions?limit=2"))
    assert [e["id"] for e in first["data"]] == ids[:2]
    assert first["meta"]["has_more"] is True
    cursor = first["meta"]["next_cursor"]
    second = success(call(acme, "GET", f"/v1/executions?cursor={cursor}&limit=50"))
    assert [e["id"] for e in second["data"]] == ids[2:]
    assert second["meta"]["has_more"] is False and "next_cursor" not in second["meta"]


def test_the_seeds_example_cursor_is_not_one_of_ours(acme: Tenant) -> None:
    # GET /executions?cursor=abc123&limit=50
    error = failure(call(acme, "GET", "/v1/executions?cursor=abc123&limit=50"), 422,
                    "VALIDATION_ERROR")
    assert error["details"]["errors"][0]["field"] == "cursor"


# ---------------------------------------------------------------- forms


CONTACT_FORM = b"""{
  "name": "Contact Form",
  "fields": [
    {
      "name": "email",
      "type": "email",
      "required": true
    },
    {
      "name": "message",
      "type": "textarea",
      "required": true
    }
  ]
}"""


def test_forms_are_created_listed_got_submitted_and_their_submissions_listed(
        acme: Tenant) -> None:
    form = success(call(acme, "POST", "/v1/forms", CONTACT_FORM), 201)["data"]
    assert form["name"] == "Contact Form"
    assert [(f["name"], f["type"], f["required"]) for f in form["fields"]] == [
        ("email", "email", True), ("message", "textarea", True)]
    assert [f["id"] for f in success(call(acme, "GET", "/v1/forms"))["data"]] == [form["id"]]
    assert success(call(acme, "GET", f"/v1/forms/{form['id']}"))["data"]["id"] == form["id"]
    submission = b"""{
  "data": {
    "email": "user@example.com",
    "message": "Hello!"
  }
}"""
    sent = success(call(acme, "POST", f"/v1/forms/{form['id']}/submissions", submission),
                   201)["data"]
    assert sent["data"] == {"email": "user@example.com", "message": "Hello!"}
    listed = success(call(acme, "GET", f"/v1/forms/{form['id']}/submissions"))["data"]
    assert [s["id"] for s in listed] == [sent["id"]]


def test_a_submission_missing_a_required_field_is_a_validation_error(acme: Tenant) -> None:
    form = success(call(acme, "POST", "/v1/forms", CONTACT_FORM), 201)["data"]
    error = failure(call(acme, "POST", f"/v1/forms/{form['id']}/submissions",
                         b'{"data": {"email": "user@example.com"}}'), 422, "VALIDATION_ERROR")
    assert any(e["field"].endswith("message") for e in error["details"]["errors"])


# ---------------------------------------------------------------- credentials, integrations


SLACK = b"""{
  "name": "Slack Bot Token",
  "type": "api_key",
  "value": "xoxb-your-token"
}"""


def test_credentials_are_created_listed_without_values_and_deleted(acme: Tenant) -> None:
    created = call(acme, "POST", "/v1/credentials", SLACK)
    data = success(created, 201)["data"]
    assert set(data) == {"id", "name", "type", "created_at"}
    assert "xoxb" not in created.text
    listed = call(acme, "GET", "/v1/credentials")
    assert [c["id"] for c in success(listed)["data"]] == [data["id"]]
    assert "xoxb" not in listed.text
    assert success(call(acme, "DELETE", f"/v1/credentials/{data['id']}"))["data"]["deleted"]
    assert success(call(acme, "GET", "/v1/credentials"))["data"] == []


def test_integrations_are_the_connected_credentials_and_test_reads_the_secret(
        acme: Tenant) -> None:
    credential = success(call(acme, "POST", "/v1/credentials", SLACK), 201)["data"]
    listed = success(call(acme, "GET", "/v1/integrations"))["data"]
    assert [(i["id"], i["name"], i["connected"]) for i in listed] == [
        (credential["id"], "Slack Bot Token", True)]
    tested = success(call(acme, "POST", f"/v1/integrations/{credential['id']}/test"))["data"]
    assert tested["id"] == credential["id"] and tested["ok"] is True
    failure(call(acme, "POST", "/v1/integrations/cred_nope/test"), 404, "NOT_FOUND")


# ---------------------------------------------------------------- webhooks


def test_webhooks_with_the_seed_body_are_created_listed_and_deleted(acme: Tenant) -> None:
    body = b"""{
  "url": "https://yoursite.com/webhook",
  "events": ["workflow.executed", "form.submitted"],
  "secret": "your-webhook-secret"
}"""
    created = success(call(acme, "POST", "/v1/webhooks", body), 201)["data"]
    assert created["url"] == "https://yoursite.com/webhook"
    assert created["events"] == ["run.completed", "run.flagged", "form.submitted"]
    assert created["secret"].startswith("whsec_")
    listed = success(call(acme, "GET", "/v1/webhooks"))["data"]
    assert [w["id"] for w in listed] == [created["id"]] and "secret" not in listed[0]
    assert success(call(acme, "DELETE", f"/v1/webhooks/{created['id']}"))["data"]["deleted"]
    assert success(call(acme, "GET", "/v1/webhooks"))["data"] == []


# ---------------------------------------------------------------- errors and headers


def test_error_codes_are_the_seeds(acme: Tenant, globex: Tenant) -> None:
    no_key = acme.http.get("/v1/workflows")
    assert failure(no_key, 401, "UNAUTHORIZED")
    read_only = mint(acme.workspace_id, scopes=["workflows:read"])
    failure(call(acme, "POST", "/v1/workflows", b'{"name": "x"}', key=read_only), 403,
            "FORBIDDEN")
    failure(call(acme, "GET", "/v1/workflows/wf_nope"), 404, "NOT_FOUND")
    failure(call(acme, "GET", f"/v1/workflows/{a_workflow(globex)}"), 404, "NOT_FOUND")
    failure(call(acme, "GET", "/v1/nowhere"), 404, "NOT_FOUND")
    failure(call(acme, "POST", "/v1/workflows", b'{"nodes": []}'), 422, "VALIDATION_ERROR")
    error = failure(call(acme, "POST", "/v1/workflows", b'{"name": '), 400, "VALIDATION_ERROR")
    assert error["details"]["problem_code"] == "BAD_REQUEST"


@pytest.fixture
def low_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RATE_LIMIT_READ_PER_MIN", "2")
    reset_settings()


def test_rate_limit_headers_and_rate_limited(acme: Tenant, low_limits: None) -> None:
    first = call(acme, "GET", "/v1/workflows")
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert name.lower() in first.headers
    call(acme, "GET", "/v1/workflows")
    limited = call(acme, "GET", "/v1/workflows")
    failure(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1


def test_server_errors_are_internal_error_in_the_envelope() -> None:
    # A 500 cannot be provoked on purpose; the mapping every answer goes through is checked.
    problem = {"type": "urn:flowdesk:problem:internal-error", "title": "Internal error",
               "status": 500, "detail": "Something went wrong", "code": "INTERNAL_ERROR",
               "errors": [], "request_id": "req_1"}
    assert seed002_error(problem) == {"success": False, "error": {
        "code": "INTERNAL_ERROR", "message": "Something went wrong",
        "details": {"status": 500, "errors": [], "request_id": "req_1"}}}
    unavailable = seed002_error({**problem, "status": 503, "code": "UNAVAILABLE"})
    assert unavailable["error"]["code"] == "INTERNAL_ERROR"
