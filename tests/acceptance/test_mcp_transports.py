"""The MCP server as clients meet it, driven by the SDK's own client: over stdio (a spawned
`python -m app.mcp` with FLOWDESK_API_KEY) and over streamable HTTP at /mcp on the running
app's port, with the key as a bearer header. Each lists the tools, triggers a run, decides
its approval, and refuses a key without the scope, naming it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from app.models import Actor
from tests.conftest import TEST_SECRET
from tests.integration.api.conftest import mint, new_workspace
from tests.live import PROJECT_ROOT, LiveApp
from tests.support import World

pytestmark = pytest.mark.slow

# The requester may decide: one key runs the whole flow.
SELF_SERVE: dict[str, Any] = {"start": "intake", "steps": {
    "intake": {"kind": "input", "fields": [{"name": "Full Name", "type": "text",
                                            "required": True}], "next": "manager"},
    "manager": {"kind": "approval", "assignees": ["role:approver"], "allow_requester": True,
                "next": "welcome"},
    "welcome": {"kind": "tool", "tool": "set",
                "args": {"message": "Welcome {{ input['Full Name'] }}"}, "done": True}}}
TOOLS = {"list_workflows", "describe_workflow", "trigger_run", "get_run_timeline",
         "list_pending_approvals", "decide_approval", "list_forms", "list_form_submissions"}
Connect = Callable[[str], Any]  # a key → what Client() connects to


def _world() -> World:
    return World(workspace_id=new_workspace("Acme"), admin_id="", approver_id="",
                 actor=Actor.system("tests"))


async def _tool(client: Client, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return dict(result.structured_content)


async def _full_flow(target: Any, workflow_id: str, settle: Callable[[], Any],
                     wait_s: float) -> dict[str, Any]:
    """List the tools, trigger, decide the approval, read the timeline: one connection."""
    async with Client(target) as client:
        assert {tool.name for tool in (await client.list_tools()).tools} == TOOLS
        run = await _tool(client, "trigger_run", {"workflow_id": workflow_id, "input": {
            "Full Name": "Jane Doe"}, "wait_seconds": wait_s})
        await anyio.to_thread.run_sync(settle)
        pending = await _tool(client, "list_pending_approvals", {"run_id": run["id"]})
        decided = await _tool(client, "decide_approval", {
            "approval_id": pending["data"][0]["id"], "decision": "approved"})
        assert decided["status"] == "approved"
        await anyio.to_thread.run_sync(settle)
        return {"triggered": run, "timeline": await _tool(
            client, "get_run_timeline", {"run_id": run["id"]})}


async def _refused(target: Any, workflow_id: str) -> str:
    async with Client(target) as client:
        result = await client.call_tool("trigger_run", {"workflow_id": workflow_id})
        assert result.is_error
        return result.content[0].text  # type: ignore[union-attr]


def _stdio(database_url: str, data_dir: Path, key: str | None) -> StdioServerParameters:
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "SECRET_KEY": TEST_SECRET}
    if key is not None:
        env["FLOWDESK_API_KEY"] = key
    return StdioServerParameters(command=sys.executable, args=["-m", "app.mcp"], env=env,
                                 cwd=PROJECT_ROOT)


def test_over_stdio(sqlite_db: str, tmp_path: Path) -> None:
    world = _world()
    workflow_id = world.publish(SELF_SERVE)
    key = mint(world.workspace_id)
    # No app runs here: the test's own executor moves the run on between calls.
    done = anyio.run(_full_flow, _stdio(sqlite_db, tmp_path, key), workflow_id, world.drain, 0)
    assert done["timeline"]["status"] == "COMPLETED"
    assert done["timeline"]["outputs"]["welcome"] == {"message": "Welcome Jane Doe"}

    reader = mint(world.workspace_id, ["workflows:read", "runs:read"])
    assert anyio.run(_refused, _stdio(sqlite_db, tmp_path, reader), workflow_id) == (
        "Error executing tool trigger_run: FORBIDDEN: This API key lacks the 'runs:write' "
        "scope")


def test_stdio_without_a_key_says_so_and_exits(sqlite_db: str, tmp_path: Path) -> None:
    params = _stdio(sqlite_db, tmp_path, None)
    for key, expected in [(None, "FLOWDESK_API_KEY is not set"),
                          ("fdk_" + "x" * 40, "FLOWDESK_API_KEY is refused")]:
        env = {**params.env} if params.env else {}
        if key:
            env["FLOWDESK_API_KEY"] = key
        finished = subprocess.run([sys.executable, "-m", "app.mcp"], cwd=PROJECT_ROOT,
                                  env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                                  text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert finished.returncode == 2 and expected in finished.stderr, finished.stderr
        assert finished.stdout == ""  # stdout is the protocol's


def _http(url: str) -> Connect:
    def connect(key: str) -> Any:
        client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"},
                                    timeout=httpx2.Timeout(60.0))
        return streamable_http_client(f"{url}/mcp", http_client=client)
    return connect


def test_over_streamable_http_on_the_apps_port(sqlite_db: str, tmp_path: Path) -> None:
    world = _world()
    workflow_id = world.publish(SELF_SERVE)
    key = mint(world.workspace_id)
    app = LiveApp(tmp_path / "app", database_url=sqlite_db, POLL_INTERVAL_S="0.2")
    app.start()
    try:
        connect = _http(app.url)
        anonymous = httpx.post(f"{app.url}/mcp", json={"jsonrpc": "2.0", "id": 1,
                                                       "method": "tools/list"})
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"]
        assert anonymous.json()["error"] == "UNAUTHORIZED"
        elsewhere = mint(world.workspace_id, allowed_ips=["10.0.0.0/8"])
        outside = httpx.post(f"{app.url}/mcp", json={}, headers={
            "Authorization": f"Bearer {elsewhere}"})
        assert outside.status_code == 403
        assert outside.json()["detail"] == "This API key may not be used from your IP address"

        # The app's executor runs the steps: the trigger's wait sees the run block.
        done = anyio.run(_full_flow, connect(key), workflow_id, lambda: None, 10)
        assert done["triggered"]["status"] == "BLOCKED"
        assert done["triggered"]["approvals"][0]["status"] == "pending"
        timeline = done["timeline"]
        for _ in range(50):
            if timeline["status"] == "COMPLETED":
                break
            anyio.run(anyio.sleep, 0.2)
            timeline = _read_timeline(connect(key), timeline["id"])
        assert timeline["status"] == "COMPLETED"

        reader = mint(world.workspace_id, ["workflows:read", "runs:read"])
        assert anyio.run(_refused, connect(reader), workflow_id) == (
            "Error executing tool trigger_run: FORBIDDEN: This API key lacks the 'runs:write' "
            "scope")
        assert key not in app.log_text()
    finally:
        app.stop()


def _read_timeline(target: Any, run_id: str) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        async with Client(target) as client:
            return await _tool(client, "get_run_timeline", {"run_id": run_id})
    return anyio.run(go)
