"""Authentication, scopes and the problem+json answers every failure produces."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from app.clock import utcnow
from app.db import read_session, write_session
from app.models import Actor, ApiKey, AuditLog
from app.services import api_keys
from app.settings import reset_settings
from tests.integration.api.conftest import QUICK, Tenant, assert_problem, mint


def test_a_request_without_a_key_is_401_with_a_bearer_challenge(acme: Tenant) -> None:
    response = acme.http.get("/api/v1/workflows")
    body = assert_problem(response, 401, "UNAUTHORIZED")
    assert "Bearer" in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [
    {"Authorization": "Bearer fdk_not-a-real-key"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer "},
    {"X-Api-Key": "nonsense"},
])
def test_a_malformed_or_unknown_key_is_401(acme: Tenant, header: dict[str, str]) -> None:
    assert_problem(acme.http.get("/api/v1/workflows", headers=header), 401, "UNAUTHORIZED")


def test_a_well_formed_key_nobody_minted_is_401(acme: Tenant) -> None:
    unknown = api_keys.new_secret()
    assert_problem(acme.get("/api/v1/workflows", key=unknown), 401, "UNAUTHORIZED")


def test_the_x_api_key_header_authenticates_too(acme: Tenant) -> None:
    response = acme.http.get("/api/v1/workspaces", headers={"X-Api-Key": acme.key})
    assert response.status_code == 200
    assert response.json()["data"][0]["id"] == acme.workspace_id


def test_a_revoked_key_fails_at_once(acme: Tenant) -> None:
    key = mint(acme.workspace_id)
    assert acme.get("/api/v1/workspaces", key=key).status_code == 200
    with read_session() as session:
        row = session.exec(select(ApiKey).where(ApiKey.prefix == key[:12])).one()
    with write_session() as session:
        api_keys.revoke_api_key(session, workspace_id=acme.workspace_id, key_id=row.id,
                                actor=Actor.system("tests"))
    body = assert_problem(acme.get("/api/v1/workspaces", key=key), 401)
    assert "revoked" in body["detail"]


def test_an_expired_key_is_401(acme: Tenant) -> None:
    key = mint(acme.workspace_id, expires_at=utcnow() + timedelta(seconds=1))
    with write_session() as session:
        row = session.exec(select(ApiKey).where(ApiKey.prefix == key[:12])).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
    assert "expired" in assert_problem(acme.get("/api/v1/workspaces", key=key), 401)["detail"]


def test_a_missing_scope_is_403_naming_it(acme: Tenant) -> None:
    key = mint(acme.workspace_id, scopes=["runs:read"])
    body = assert_problem(acme.get("/api/v1/workflows", key=key), 403, "FORBIDDEN")
    assert body["missing_scope"] == "workflows:read"
    assert "workflows:read" in body["detail"]


def test_a_key_with_an_ip_allow_list_works_only_from_those_networks(acme: Tenant,
                                                                    api: FastAPI) -> None:
    key = mint(acme.workspace_id, allowed_ips=["10.1.2.0/24", "2001:db8::1"])
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(api, client=("10.1.2.3", 5000)) as inside:
        assert inside.get("/api/v1/workspaces", headers=headers).status_code == 200
    with TestClient(api, client=("10.9.9.9", 5000)) as outside:
        body = assert_problem(outside.get("/api/v1/workspaces", headers=headers), 403)
    assert body["reason"] == "ip_not_allowed"


def test_x_workspace_id_must_name_the_keys_workspace(acme: Tenant, globex: Tenant) -> None:
    own = acme.get("/api/v1/workspaces", headers={"X-Workspace-Id": acme.workspace_id})
    assert own.status_code == 200
    other = acme.get("/api/v1/workspaces", headers={"X-Workspace-Id": globex.workspace_id})
    assert assert_problem(other, 404, "NOT_FOUND")["reason"] == "workspace_mismatch"
    made_up = acme.get("/api/v1/workspaces", headers={"X-Workspace-Id": "ws_nope"})
    assert assert_problem(made_up, 404)["detail"].replace("ws_nope", globex.workspace_id) \
        == assert_problem(other, 404)["detail"]


def test_a_key_records_when_it_was_last_used_at_most_once_a_minute(acme: Tenant) -> None:
    key = mint(acme.workspace_id)

    def last_used() -> object:
        with read_session() as session:
            return session.exec(select(ApiKey).where(ApiKey.prefix == key[:12])).one() \
                .last_used_at

    assert last_used() is None
    acme.get("/api/v1/workspaces", key=key)
    first = last_used()
    assert first is not None
    acme.get("/api/v1/workspaces", key=key)
    assert last_used() == first


def test_unknown_api_routes_are_404_problems_and_wrong_methods_405(acme: Tenant) -> None:
    assert_problem(acme.get("/api/v1/no-such-thing"), 404, "NOT_FOUND")
    response = acme.request("DELETE", "/api/v1/workspaces")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"
    assert_problem(acme.request("PUT", "/api/v1/workflows/wf_x"), 405)


def test_reflex_routes_are_left_alone(acme: Tenant) -> None:
    # Outside /api/ nothing of ours applies: no request id, no problem documents.
    response = acme.http.get("/not-an-api-path")
    assert "x-request-id" not in response.headers
    assert "problem" not in response.headers.get("content-type", "")


def test_malformed_json_is_400(acme: Tenant) -> None:
    response = acme.post("/api/v1/workflows", content=b'{"title": "x", ',
                         headers={"Content-Type": "application/json"})
    assert "not valid JSON" in assert_problem(response, 400, "BAD_REQUEST")["detail"]


@pytest.mark.parametrize("body", [
    b'{"title": "NaN", "definition": {"x": NaN}}',
    b'{"title": "big", "definition": {"x": 1e999}}',
    b'{"title": "nul\\u0000", "definition": {}}',
    b'{"title": "surrogate \\ud800", "definition": {}}',
])
def test_json_the_databases_cannot_store_is_400(acme: Tenant, body: bytes) -> None:
    response = acme.post("/api/v1/workflows", content=body,
                         headers={"Content-Type": "application/json"})
    assert_problem(response, 400, "BAD_REQUEST")


def test_a_nul_in_the_url_is_400(acme: Tenant) -> None:
    assert_problem(acme.get("/api/v1/workflows?search=a%00b"), 400)


def test_a_body_over_the_cap_is_413_by_content_length(acme: Tenant,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1000")
    reset_settings()
    big = {"title": "big", "definition": {"x": "y" * 2000}}
    body = assert_problem(acme.post("/api/v1/workflows", json=big), 413, "PAYLOAD_TOO_LARGE")
    assert body["max_body_bytes"] == 1000


def test_a_streamed_body_over_the_cap_is_413(acme: Tenant,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "1000")
    reset_settings()

    def chunks():  # no Content-Length: the size is only known by counting
        for _ in range(10):
            yield b" " * 200

    response = acme.post("/api/v1/workflows", content=chunks(),
                         headers={"Content-Type": "application/json"})
    assert_problem(response, 413)


def test_validation_errors_name_every_field(acme: Tenant) -> None:
    response = acme.post("/api/v1/workflows", json={"title": "", "extra": 1})
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    fields = {error["field"] for error in body["errors"]}
    assert {"title", "definition", "extra"} <= fields
    codes = {error["field"]: error["code"] for error in body["errors"]}
    assert codes["definition"] == "required" and codes["extra"] == "unknown_field"


def test_a_query_parameter_out_of_range_is_422_naming_it(acme: Tenant) -> None:
    body = assert_problem(acme.get("/api/v1/runs?limit=101"), 422)
    assert body["errors"][0]["field"] == "limit"


def test_a_workflow_definition_problem_lists_every_problem(acme: Tenant) -> None:
    bad = {"start": "a", "steps": {"a": {"kind": "tool", "tool": "nope", "next": "b"}}}
    body = assert_problem(acme.post("/api/v1/workflows", json={"title": "t",
                                                               "definition": bad}), 422)
    fields = {error["field"] for error in body["errors"]}
    assert {"definition.steps.a.tool", "definition.steps.a.next"} <= fields


def test_an_unhandled_error_is_a_500_problem_without_a_trace(
        acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.repo import workflows as workflows_repo

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(workflows_repo, "list_workflows", explode)
    response = acme.get("/api/v1/workflows")
    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.text
    assert "x-ratelimit-limit" in response.headers
    assert body["request_id"]


def test_the_request_id_is_the_callers_when_sane(acme: Tenant) -> None:
    mine = acme.get("/api/v1/workspaces", headers={"X-Request-Id": "trace-123"})
    assert mine.headers["x-request-id"] == "trace-123"
    odd = acme.get("/api/v1/workspaces", headers={"X-Request-Id": "bad id with spaces"})
    assert odd.headers["x-request-id"].startswith("req_")


def test_mutations_are_audited_as_the_api_key(acme: Tenant) -> None:
    response = acme.post("/api/v1/workflows", json={"title": "Audited", "definition": QUICK},
                         headers={"X-Request-Id": "req-audit-1"})
    assert response.status_code == 201
    with read_session() as session:
        row = session.exec(select(AuditLog).where(AuditLog.action == "workflow.created",
                                                  AuditLog.resource_id == response.json()["id"])
                           ).one()
    assert row.actor_type == "api_key"
    assert row.actor_label == acme.key[:12]
    assert row.request_id == "req-audit-1"


def _operations(api: FastAPI) -> list[tuple[str, str, list[str]]]:
    found = []
    for path, item in api.openapi()["paths"].items():
        for method, operation in item.items():
            if "x-required-scopes" in operation:
                found.append((method.upper(), path, operation["x-required-scopes"]))
    return found


def test_every_operation_refuses_a_missing_key_and_names_a_missing_scope(
        acme: Tenant, api: FastAPI) -> None:
    operations = _operations(api)
    assert len(operations) >= 40
    for method, template, scopes in operations:
        path = re.sub(r"\{[^}]+\}", "1", template)
        assert_problem(acme.http.request(method, path), 401)
        unrelated = "audit:read" if "audit:read" not in scopes else "runs:read"
        if not scopes:
            continue
        key = mint(acme.workspace_id, scopes=[unrelated])
        body = assert_problem(acme.request(method, path, key=key), 403, "FORBIDDEN")
        assert body["missing_scope"] == scopes[0], (method, template)
        assert scopes[0] in body["detail"]
