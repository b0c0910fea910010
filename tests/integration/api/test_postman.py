"""/api/v1/postman/*: a Postman v2.1 collection of every operation in the OpenAPI document,
and the environment it reads, both public like the document itself."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "postman_collection_v2.1.schema.json"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture
def spec(http: TestClient) -> dict[str, Any]:
    return http.get("/api/v1/openapi.json").json()


@pytest.fixture
def collection(http: TestClient) -> dict[str, Any]:
    response = http.get("/api/v1/postman/collection.json")
    assert response.status_code == 200, response.text
    return response.json()


def requests_of(collection: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pending = list(collection["item"])
    while pending:
        entry = pending.pop(0)
        if "request" in entry:
            found.append(entry)
        pending.extend(entry.get("item", []))
    return found


def by_name(collection: dict[str, Any], name: str) -> dict[str, Any]:
    [entry] = [e for e in requests_of(collection) if e["name"] == name]
    return entry["request"]


def test_both_files_are_served_without_a_key(http: TestClient) -> None:
    for path in ("/api/v1/postman/collection.json", "/api/v1/postman/environment.json"):
        response = http.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")


def test_they_are_not_operations_of_the_document(spec: dict[str, Any]) -> None:
    assert not [path for path in spec["paths"] if "postman" in path]


def test_the_collection_is_valid_postman_v2_1(collection: dict[str, Any]) -> None:
    validator = jsonschema_rs.validator_for(json.loads(SCHEMA_PATH.read_text()))
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(collection)]
    assert errors == []
    assert collection["info"]["schema"] == (
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json")


def test_every_operation_appears_exactly_once(spec: dict[str, Any],
                                              collection: dict[str, Any]) -> None:
    expected = Counter(
        (method.upper(), "{{baseUrl}}" + path.replace("{", ":").replace("}", ""))
        for path, item in spec["paths"].items() for method in item if method in HTTP_METHODS)
    listed = Counter((e["request"]["method"], e["request"]["url"]["raw"].split("?")[0])
                     for e in requests_of(collection))
    assert listed == expected
    assert all(count == 1 for count in listed.values())


def test_there_is_one_folder_per_tag_and_requests_are_named_by_summary(
        spec: dict[str, Any], collection: dict[str, Any]) -> None:
    folders = {folder["name"]: folder for folder in collection["item"]}
    used_tags = {op["tags"][0] for item in spec["paths"].values() for op in item.values()}
    assert set(folders) == used_tags
    summaries = {e["name"] for e in folders["runs"]["item"]}
    assert "Trigger a run (the workflow named in the body)" in summaries


def test_path_parameters_are_variables_and_query_parameters_optional(
        spec: dict[str, Any], collection: dict[str, Any]) -> None:
    summary = spec["paths"]["/api/v1/runs/{run_id}"]["get"]["summary"]
    url = by_name(collection, summary)["url"]
    assert url["raw"] == "{{baseUrl}}/api/v1/runs/:run_id"
    assert url["host"] == ["{{baseUrl}}"] and url["path"] == ["api", "v1", "runs", ":run_id"]
    assert [v["key"] for v in url["variable"]] == ["run_id"]
    listing = by_name(collection, spec["paths"]["/api/v1/runs"]["get"]["summary"])["url"]
    limit = next(q for q in listing["query"] if q["key"] == "limit")
    assert limit == {**limit, "value": "25", "disabled": True}


def test_bodies_are_json_examples_from_the_request_schema(
        spec: dict[str, Any], collection: dict[str, Any]) -> None:
    request = by_name(collection, spec["paths"]["/api/v1/runs"]["post"]["summary"])
    assert request["body"]["options"]["raw"]["language"] == "json"
    assert json.loads(request["body"]["raw"]) == (
        spec["components"]["schemas"]["RunCreate"]["examples"][0])
    assert {"key": "Content-Type", "value": "application/json"} in request["header"]


def test_the_collection_authenticates_with_the_key_and_writes_get_a_fresh_idempotency_key(
        collection: dict[str, Any]) -> None:
    assert collection["auth"] == {"type": "bearer", "bearer": [
        {"key": "token", "value": "{{apiKey}}", "type": "string"}]}
    [event] = collection["event"]
    script = "\n".join(event["script"]["exec"])
    assert event["listen"] == "prerequest"
    assert "pm.request.headers.upsert" in script and "Idempotency-Key" in script
    assert "{{$guid}}" in script
    assert all(method in script for method in ("POST", "PATCH", "PUT", "DELETE"))


def test_the_liveness_check_needs_no_auth(collection: dict[str, Any]) -> None:
    [health] = [e["request"] for e in requests_of(collection)
                if e["request"]["url"]["raw"] == "{{baseUrl}}/api/v1/health"]
    assert health["auth"] == {"type": "noauth"}


def test_the_environment_names_this_server_and_an_empty_secret_key(http: TestClient) -> None:
    body = http.get("/api/v1/postman/environment.json").json()
    assert body["name"] == "Flowdesk"
    assert body["values"] == [
        {"key": "baseUrl", "value": "http://testserver", "type": "default", "enabled": True},
        {"key": "apiKey", "value": "", "type": "secret", "enabled": True}]
