"""The MCP server, driven by the SDK's own client connected in-process to the server
`python -m app.mcp` and /mcp serve: its tools over the same services and scoped keys as the
REST API, every approval policy's refusal, clear errors for scopes and arguments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from app.db import write_session
from app.mcp.server import build_server
from app.models import Actor
from app.services import api_keys
from app.services.api_access import grant_of_secret
from app.settings import reset_settings
from tests.integration.api.conftest import JANE, ONBOARDING, Tenant, mint

ASK: dict[str, Any] = {"start": "ask", "steps": {
    "ask": {"kind": "approval", "assignees": ["role:approver"], "mode": "quorum", "quorum": 2,
            "require_comment_on_reject": True,
            "fields": [{"name": "start_date", "type": "date", "required": True}],
            "next": "after"},
    "after": {"kind": "tool", "tool": "set",
              "args": {"start": "{{ steps.ask.fields.start_date }}"}, "done": True}}}
TOOLS = {"list_workflows", "describe_workflow", "trigger_run", "get_run_timeline",
         "list_pending_approvals", "decide_approval", "list_forms", "list_form_submissions"}


def _server(key: str) -> Any:
    return build_server(lambda _ctx: grant_of_secret(key))


def call(key: str, tool: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
    async def go() -> CallToolResult:
        async with Client(_server(key)) as client:
            return await client.call_tool(tool, arguments or {})
    return anyio.run(go)


def ok(key: str, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    result = call(key, tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


def refusal(key: str, tool: str, arguments: dict[str, Any] | None = None) -> str:
    """The text of a tool error, after the SDK's "Error executing tool <name>: "."""
    result = call(key, tool, arguments)
    assert result.is_error, result.structured_content
    text = result.content[0].text  # type: ignore[union-attr]
    prefix = f"Error executing tool {tool}: "
    assert text.startswith(prefix), text
    return text.removeprefix(prefix)


def _pending(acme: Tenant, run_id: str) -> str:
    acme.world.drain()  # type: ignore[union-attr]
    approvals = ok(acme.key, "list_pending_approvals", {"run_id": run_id})["data"]
    assert len(approvals) == 1
    return str(approvals[0]["id"])


def test_the_client_lists_every_tool_with_its_argument_schema(acme: Tenant) -> None:
    async def go() -> Sequence[Any]:
        async with Client(_server(acme.key)) as client:
            return (await client.list_tools()).tools
    tools = {tool.name: tool for tool in anyio.run(go)}
    assert set(tools) == TOOLS
    trigger = tools["trigger_run"].input_schema
    assert trigger["required"] == ["workflow_id"]
    assert trigger["properties"]["wait_seconds"]["maximum"] == 30
    assert tools["decide_approval"].input_schema["properties"]["decision"]["enum"] == [
        "approved", "rejected"]
    assert tools["list_workflows"].annotations.read_only_hint is True


def test_describe_gives_the_input_fields_as_json_schema(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING, "Onboarding")
    listed = ok(acme.key, "list_workflows", {"status": "published"})["data"]
    assert [w["id"] for w in listed] == [workflow_id]
    described = ok(acme.key, "describe_workflow", {"workflow_id": workflow_id})
    assert described["can_trigger"] is True
    assert described["resource_uri"] == f"flowdesk://workflows/{workflow_id}"
    assert described["input_schema"] == {
        "type": "object", "additionalProperties": False, "required": ["Full Name", "Email"],
        "properties": {"Full Name": {"type": "string", "title": "Full Name"},
                       "Email": {"type": "string", "format": "email", "title": "Email"}}}


def test_a_run_triggered_and_decided_over_mcp_completes(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    run = ok(acme.key, "trigger_run", {"workflow_id": workflow_id, "input": JANE})
    assert run["status"] == "IN_PROGRESS" and run["created_by"].startswith("fdk_")
    approval_id = _pending(acme, run["id"])

    own = refusal(acme.key, "decide_approval", {"approval_id": approval_id,
                                                "decision": "approved"})
    assert own == "FORBIDDEN: You started this run, so someone else must decide its approval"
    other = mint(acme.workspace_id)
    decided = ok(other, "decide_approval", {"approval_id": approval_id, "decision": "approved",
                                            "comment": "Welcome aboard"})
    assert decided["status"] == "approved" and decided["votes"][0]["via"] == "mcp"

    acme.world.drain()  # type: ignore[union-attr]
    timeline = ok(acme.key, "get_run_timeline", {"run_id": run["id"]})
    assert timeline["status"] == "COMPLETED"
    assert [step["key"] for step in timeline["steps"]] == ["intake", "manager", "welcome"]
    assert timeline["outputs"]["welcome"] == {"message": "Welcome Jane Doe"}
    assert timeline["approvals"][0]["comment"] == "Welcome aboard"
    assert acme.fd.runs.get(run["id"]).status == "COMPLETED"  # the REST API sees the same


def test_every_policy_refusal_is_returned_and_a_quorum_waits(acme: Tenant) -> None:
    run = ok(acme.key, "trigger_run", {"workflow_id": acme.publish(ASK)})
    approval_id = _pending(acme, run["id"])
    first, second = mint(acme.workspace_id), mint(acme.workspace_id)
    vote = {"approval_id": approval_id, "decision": "approved"}

    assert refusal(first, "decide_approval", vote) == (
        "VALIDATION_ERROR: Fill in the approver fields to approve (fields.start_date: "
        "start_date is required)")
    assert refusal(first, "decide_approval", {**vote, "decision": "rejected"}) == (
        "VALIDATION_ERROR: A rejection needs a comment (comment: is required to reject)")
    one = ok(first, "decide_approval", {**vote, "fields": {"start_date": "2027-01-04"}})
    assert one["status"] == "pending" and one["approvals"] == 1
    assert "already voted" in refusal(first, "decide_approval",
                                      {**vote, "fields": {"start_date": "2027-01-04"}})
    two = ok(second, "decide_approval", {**vote, "fields": {"start_date": "2027-02-01"}})
    assert two["status"] == "approved" and two["approvals"] == 2
    assert ok(acme.key, "list_pending_approvals")["data"] == []


def test_mode_all_waits_for_every_vote(acme: Tenant) -> None:
    both = {"start": "ask", "steps": {"ask": {
        "kind": "approval", "assignees": ["ann@acme.test", "bob@acme.test"], "mode": "all",
        "done": True}}}
    run = ok(acme.key, "trigger_run", {"workflow_id": acme.publish(both)})
    vote = {"approval_id": _pending(acme, run["id"]), "decision": "approved"}
    assert ok(mint(acme.workspace_id), "decide_approval", vote)["status"] == "pending"
    assert ok(mint(acme.workspace_id), "decide_approval", vote)["status"] == "approved"
    acme.world.drain()  # type: ignore[union-attr]
    assert ok(acme.key, "get_run_timeline", {"run_id": run["id"]})["status"] == "COMPLETED"


def test_a_key_without_the_scope_is_refused_naming_it(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    reader = mint(acme.workspace_id, ["workflows:read"])
    assert ok(reader, "describe_workflow", {"workflow_id": workflow_id})["id"] == workflow_id
    assert refusal(reader, "trigger_run", {"workflow_id": workflow_id, "input": JANE}) == (
        "FORBIDDEN: This API key lacks the 'runs:write' scope")
    assert "'approvals:write' scope" in refusal(reader, "decide_approval", {
        "approval_id": "apr_x", "decision": "approved"})
    assert "'forms:read' scope" in refusal(reader, "list_forms")
    assert acme.fd.runs.list().data == []  # nothing was started


def test_calls_count_against_the_keys_rate_limits(acme: Tenant,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    workflow_id = acme.publish(ONBOARDING)
    monkeypatch.setenv("RATE_LIMIT_WRITE_PER_MIN", "2")
    reset_settings()

    async def go() -> list[CallToolResult]:
        async with Client(_server(acme.key)) as client:
            return [await client.call_tool("trigger_run", {"workflow_id": workflow_id,
                                                           "input": JANE}) for _ in range(3)]

    first, second, third = anyio.run(go)
    assert not first.is_error and not second.is_error  # a trigger counts once, as one call
    assert "RATE_LIMITED: Rate limit of 2 write requests per minute exceeded; retry in" in (
        third.content[0].text)  # type: ignore[union-attr]
    assert len(acme.fd.runs.list().data) == 2


def test_bad_arguments_are_named(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    assert refusal(acme.key, "trigger_run", {"workflow_id": workflow_id,
                                             "wait_seconds": 99}) == (
        "VALIDATION_ERROR: The arguments are invalid (wait_seconds: Input should be less than "
        "or equal to 30)")
    assert refusal(acme.key, "decide_approval", {"approval_id": "apr_x", "decision": "maybe"}) == (
        "VALIDATION_ERROR: The arguments are invalid (decision: Input should be 'approved' or "
        "'rejected')")
    assert refusal(acme.key, "trigger_run", {"input": "x"}) == (
        "VALIDATION_ERROR: The arguments are invalid (workflow_id: Field required; input: "
        "Input should be a valid dictionary)")
    bad_input = refusal(acme.key, "trigger_run", {"workflow_id": workflow_id,
                                                  "input": {"Full Name": "Jane"}})
    assert bad_input == ("VALIDATION_ERROR: The run input does not match the workflow's input "
                         "fields (input.Email: Email is required)")
    assert refusal(acme.key, "get_run_timeline", {"run_id": "run_nope"}) == (
        "NOT_FOUND: run 'run_nope' was not found")
    assert "cursor" in refusal(acme.key, "list_forms", {"cursor": "not-a-cursor"})


def test_another_workspaces_items_are_not_found(acme: Tenant, globex: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    assert "NOT_FOUND" in refusal(globex.key, "describe_workflow", {"workflow_id": workflow_id})
    assert ok(globex.key, "list_workflows")["data"] == []


def test_forms_and_their_submissions(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    form = acme.post("/api/v1/forms", json={
        "title": "Join", "workflow_id": workflow_id, "is_published": True,
        "fields": [{"name": "Full Name", "type": "text", "required": True},
                   {"name": "Email", "type": "email", "required": True}]}).json()
    submitted = acme.post(f"/api/v1/forms/{form['id']}/submissions", json={"data": JANE})
    assert submitted.status_code == 201, submitted.text
    forms = ok(acme.key, "list_forms")["data"]
    assert [f["id"] for f in forms] == [form["id"]]
    page = ok(acme.key, "list_form_submissions", {"form_id": form["id"]})
    assert page["data"][0]["data"] == JANE and page["data"][0]["run_id"]
    assert "NOT_FOUND" in refusal(acme.key, "list_form_submissions", {"form_id": "frm_nope"})


def test_pages_follow_the_cursor(acme: Tenant) -> None:
    ids = [acme.publish(ONBOARDING, f"Flow {n}") for n in range(3)]
    first = ok(acme.key, "list_workflows", {"limit": 2})
    assert first["has_more"] is True and len(first["data"]) == 2
    rest = ok(acme.key, "list_workflows", {"limit": 2, "cursor": first["next_cursor"]})
    assert rest["has_more"] is False
    assert {w["id"] for w in first["data"] + rest["data"]} == set(ids)


def test_a_workflow_definition_is_a_resource(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    no_scope = mint(acme.workspace_id, ["runs:read"])

    async def go(key: str, uri: str) -> Any:
        async with Client(_server(key)) as client:
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == ["flowdesk://workflows/{workflow_id}"]
            try:
                return await client.read_resource(uri)
            except MCPError as exc:  # the protocol error the server answered
                return exc.error.message

    read = anyio.run(go, acme.key, f"flowdesk://workflows/{workflow_id}")
    body = json.loads(read.contents[0].text)
    assert body["id"] == workflow_id and body["definition"]["start"] == "intake"
    assert anyio.run(go, no_scope, f"flowdesk://workflows/{workflow_id}") == (
        "FORBIDDEN: This API key lacks the 'workflows:read' scope")
    assert anyio.run(go, acme.key, "flowdesk://workflows/wf_nope") == (
        "NOT_FOUND: workflow 'wf_nope' was not found")


def test_the_key_never_appears_in_any_answer(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    run = call(acme.key, "trigger_run", {"workflow_id": workflow_id, "input": JANE})
    assert run.structured_content is not None
    answers = [run, call(acme.key, "get_run_timeline", {"run_id": run.structured_content["id"]}),
               call(acme.key, "list_workflows"),
               call(acme.key, "decide_approval", {"approval_id": "apr_x", "decision": "approved"})]
    for answer in answers:
        assert acme.key not in answer.model_dump_json()
    revoked = mint(acme.workspace_id)
    with write_session() as session:
        api_keys.revoke_api_key(session, workspace_id=acme.workspace_id,
                                key_id=grant_of_secret(revoked).key_id,
                                actor=Actor.system("tests"))
    refused = call(revoked, "list_workflows")
    assert revoked not in refused.model_dump_json()
    assert refusal(revoked, "list_workflows") == "UNAUTHORIZED: The API key was revoked"
