"""API fixtures: the FastAPI app on a real database (TestClient), a workspace with keys, a
second workspace for cross-workspace checks, and problem+json assertions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.main import create_api
from app.client import FlowdeskClient
from app.db import write_session
from app.models import SCOPES, Actor
from app.services import accounts, api_keys
from tests.support import World

ONBOARDING: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {"kind": "input", "fields": [
            {"name": "Full Name", "type": "text", "required": True},
            {"name": "Email", "type": "email", "required": True}], "next": "manager"},
        "manager": {"kind": "approval", "assignees": ["role:approver"],
                    "instructions": "Approve {{ input['Full Name'] }}", "next": "welcome"},
        "welcome": {"kind": "tool", "tool": "set",
                    "args": {"message": "Welcome {{ input['Full Name'] }}"}, "done": True},
    },
}
QUICK: dict[str, Any] = {
    "start": "hello",
    "steps": {"hello": {"kind": "tool", "tool": "set", "args": {"hello": "world"},
                        "done": True}},
}
FLAKY: dict[str, Any] = {
    "start": "boom",
    "steps": {"boom": {"kind": "tool", "tool": "fail", "args": {"retryable": False},
                       "next": "after"},
              "after": {"kind": "tool", "tool": "set", "args": {"after": True}, "done": True}},
}
GATED: dict[str, Any] = {
    "start": "gate",
    "steps": {"gate": {"kind": "signal", "next": "after"},
              "after": {"kind": "tool", "tool": "set", "args": {"x": 1}, "done": True}},
}
JANE = {"Full Name": "Jane Doe", "Email": "jane@acme.test"}


def mint(workspace_id: str, scopes: Sequence[str] = SCOPES, **options: Any) -> str:
    with write_session() as session:
        minted = api_keys.mint_api_key(session, workspace_id=workspace_id,
                                       actor=Actor.system("tests"), name="test",
                                       scopes=list(scopes), **options)
    return minted.secret


@dataclass
class Tenant:
    """A workspace as an API client sees it: its key, a typed client and raw HTTP."""

    workspace_id: str
    key: str
    http: TestClient
    fd: FlowdeskClient
    world: World | None = None

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}", **extra}

    def request(self, method: str, path: str, *, key: str | None = None,
                headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers={**self.headers(key), **(headers or {})},
                                 **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def another_key(self) -> FlowdeskClient:
        """A client with a second key of this workspace: it may decide what this one started
        (a requester may not, by default)."""
        return FlowdeskClient(http=self.http, api_key=mint(self.workspace_id))

    def publish(self, definition: dict[str, Any], title: str = "Flow") -> str:
        workflow = self.fd.workflows.create(title, definition)
        self.fd.workflows.publish(workflow.id)
        return workflow.id


@pytest.fixture
def api(database: str) -> FastAPI:
    return create_api()


@pytest.fixture
def http(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api, raise_server_exceptions=False) as client:
        yield client


def new_workspace(name: str) -> str:
    with write_session() as session:
        return accounts.create_workspace(session, name=name, actor=Actor.system("tests")).id


@pytest.fixture
def world(database: str) -> World:
    """A workspace and the inline executor; API callers need no users (no password hashing)."""
    return World(workspace_id=new_workspace("Acme"), admin_id="", approver_id="",
                 actor=Actor.system("tests"))


@pytest.fixture
def acme(world: World, http: TestClient) -> Tenant:
    key = mint(world.workspace_id)
    return Tenant(world.workspace_id, key, http, FlowdeskClient(http=http, api_key=key), world)


@pytest.fixture
def globex(acme: Tenant, http: TestClient) -> Tenant:
    workspace_id = new_workspace("Globex")
    key = mint(workspace_id)
    return Tenant(workspace_id, key, http, FlowdeskClient(http=http, api_key=key))


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict:
    """The answer is an RFC 9457 problem with our members, and echoes its request id."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "code", "errors", "request_id"} <= set(body)
    assert body["status"] == status
    assert body["type"].startswith("urn:flowdesk:problem:")
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    return body
