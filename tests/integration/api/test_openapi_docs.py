"""The OpenAPI 3.1 document describes every route completely, and the docs page renders from
files the app serves itself (no CDN)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(http: TestClient) -> TestClient:
    return http


@pytest.fixture
def schema(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in schema["paths"].items()
            for method, op in item.items()]


def test_it_is_openapi_3_1_with_both_security_schemes(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.1")
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "apiKey", "in": "header",
                                 "name": "X-Api-Key"}


# Operations that need no API key: liveness, and a download whose signed token authorises it.
NO_KEY = {"/api/v1/health", "/api/v1/files/download"}


def test_every_route_is_documented(schema: dict[str, Any]) -> None:
    documented = {(path, method) for path, method, _ in operations(schema)}
    expected = {
        ("/api/v1/workflows", "get"), ("/api/v1/workflows", "post"),
        ("/api/v1/workflows/{workflow_id}", "patch"), ("/api/v1/runs", "post"),
        ("/api/v1/workflows/{workflow_id}/runs", "post"), ("/api/v1/steps/{step_id}/ready",
                                                           "post"),
        ("/api/v1/approvals/{approval_id}/decide", "post"), ("/api/v1/audit-events", "get"),
        ("/api/v1/forms/{form_id}/submissions", "post"), ("/api/v1/credentials", "post"),
        ("/api/public/runs/trigger", "post"), ("/api/workflow/{step_id}/ready", "post"),
    }
    assert expected <= documented
    assert len(documented) >= 40
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert len(ids) == len(set(ids))


def test_every_authenticated_operation_names_its_scopes_and_security(
        schema: dict[str, Any]) -> None:
    for path, method, op in operations(schema):
        if path in NO_KEY:
            assert "security" not in op
            continue
        assert "x-required-scopes" in op, (path, method)
        assert op["security"] == [{"bearer": []}, {"apiKey": []}], (path, method)
    ops = {(p, m): op for p, m, op in operations(schema)}
    assert ops[("/api/v1/runs", "post")]["x-required-scopes"] == ["runs:write"]
    assert ops[("/api/workflow", "post")]["x-required-scopes"] == ["workflows:write",
                                                                   "runs:write"]


def test_errors_are_documented_as_problems_with_the_limit_headers(
        schema: dict[str, Any]) -> None:
    for path, method, op in operations(schema):
        codes = set(op["responses"])
        assert {"400", "422", "429", "500"} <= codes, (path, method)
        if path not in NO_KEY:
            assert {"401", "403"} <= codes, (path, method)
        if "{" in path:
            assert "404" in codes, (path, method)
        if method in ("post", "patch"):
            assert {"409", "413"} <= codes, (path, method)
        for code, response in op["responses"].items():
            if code[0] in "45":
                assert response["content"] == {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}
            assert "X-RateLimit-Remaining" in response["headers"]
            assert "X-Request-Id" in response["headers"]
        if method == "post":
            names = [p.get("$ref", p.get("name")) for p in op.get("parameters", [])]
            assert "#/components/parameters/IdempotencyKey" in names
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_creations_declare_links_and_bodies_have_examples(schema: dict[str, Any]) -> None:
    created = schema["paths"]["/api/v1/workflows"]["post"]["responses"]["201"]
    assert created["links"]["GetWorkflow"]["operationId"] == "get_workflow"
    trigger = schema["paths"]["/api/v1/workflows/{workflow_id}/runs"]["post"]
    assert trigger["responses"]["201"]["links"]["GetRun"]["parameters"] == {
        "run_id": "$response.body#/id"}
    for name in ("WorkflowCreate", "RunCreate", "ApprovalDecision", "FormCreate",
                 "CredentialCreate", "PublicTriggerRequest", "FlowCreateRequest"):
        assert schema["components"]["schemas"][name]["examples"], name


def test_the_docs_page_loads_only_local_files(client: TestClient) -> None:
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/api/v1/docs/assets/") for source in sources)
    assert "/api/v1/openapi.json" in page.text
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and len(asset.content) > 100, source
    bundle = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"]


def test_health_needs_no_key(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
