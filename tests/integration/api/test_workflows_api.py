"""/api/v1/workflows: drafts with optimistic versions, validation, publishing, versions, lists."""

from __future__ import annotations

import pytest

from app.client import FlowdeskError
from app.engine.tools import known_tools
from tests.integration.api.conftest import ONBOARDING, QUICK, Tenant, assert_problem, mint


def test_create_answers_201_with_location_etag_and_the_definition(acme: Tenant) -> None:
    response = acme.post("/api/v1/workflows", json={
        "title": "Onboarding", "description": "New hires", "definition": ONBOARDING})
    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("wf_")
    assert body["status"] == "draft" and body["version"] == 1
    assert body["published_version"] is None
    assert body["definition"]["start"] == "intake"
    assert response.headers["location"] == f"/api/v1/workflows/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["created_by"] == acme.key[:12]


def test_seed_004_flows_are_accepted_and_converted(acme: Tenant) -> None:
    flow = {"start": {"name": "greet", "tool": "get_greeting", "args": {}, "done": True}}
    created = acme.fd.workflows.create("Seed flow", flow)
    assert created.definition["steps"]["start"]["kind"] == "tool"


def test_get_answers_the_workflow_with_its_etag(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    response = acme.get(f"/api/v1/workflows/{created.id}")
    assert response.status_code == 200
    assert response.json()["title"] == "Quick"
    assert response.headers["etag"] == '"1"'


def test_patch_with_the_current_version_saves_and_bumps_it(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    response = acme.request("PATCH", f"/api/v1/workflows/{created.id}",
                            json={"title": "Quicker"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200
    assert response.json()["title"] == "Quicker" and response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'


def test_patch_with_a_stale_version_is_409(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    acme.fd.workflows.update(created.id, version=1, description="first edit")
    stale = acme.request("PATCH", f"/api/v1/workflows/{created.id}",
                         json={"title": "lost update"}, headers={"If-Match": "1"})
    body = assert_problem(stale, 409, "CONFLICT")
    assert body["current_version"] == 2
    assert acme.fd.workflows.get(created.id).title == "Quick"


def test_patch_without_if_match_saves_and_a_bad_if_match_is_422(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    assert acme.fd.workflows.update(created.id, description="no precondition").version == 2
    bad = acme.request("PATCH", f"/api/v1/workflows/{created.id}", json={"title": "x"},
                       headers={"If-Match": "yesterday"})
    assert assert_problem(bad, 422)["errors"][0]["field"] == "If-Match"


def test_patch_with_an_invalid_definition_is_422(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    response = acme.request("PATCH", f"/api/v1/workflows/{created.id}",
                            json={"definition": {"start": "missing", "steps": {}}})
    assert_problem(response, 422, "VALIDATION_ERROR")


def test_delete_answers_204_and_the_workflow_is_gone(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    assert acme.request("DELETE", f"/api/v1/workflows/{created.id}").status_code == 204
    assert_problem(acme.get(f"/api/v1/workflows/{created.id}"), 404)
    assert_problem(acme.request("DELETE", f"/api/v1/workflows/{created.id}"), 404)


def test_validate_reports_the_draft_or_a_given_definition(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    assert acme.fd.workflows.validate(created.id).valid is True
    report = acme.fd.workflows.validate(created.id, {"start": "a", "steps": {
        "a": {"kind": "tool", "tool": "nope", "done": True}}})
    assert report.valid is False
    assert report.errors[0].field == "definition.steps.a.tool"
    assert "nope" in report.errors[0].message


def test_publish_creates_numbered_versions(acme: Tenant) -> None:
    created = acme.fd.workflows.create("Quick", QUICK)
    first = acme.post(f"/api/v1/workflows/{created.id}/publish")
    assert first.status_code == 201
    assert first.json()["number"] == 1 and first.json()["definition"]["start"] == "hello"
    acme.fd.workflows.update(created.id, title="Quick v2")
    assert acme.fd.workflows.publish(created.id).number == 2
    workflow = acme.fd.workflows.get(created.id)
    assert workflow.status == "published" and workflow.published_version == 2
    versions = acme.fd.workflows.versions(created.id)
    assert [v.number for v in versions.data] == [2, 1]
    assert acme.fd.workflows.version(created.id, 1).title == "Quick"
    assert_problem(acme.get(f"/api/v1/workflows/{created.id}/versions/9"), 404)


def test_list_filters_and_pages_with_a_cursor(acme: Tenant) -> None:
    for n in range(5):
        acme.fd.workflows.create(f"Flow {n}", QUICK)
    published = acme.fd.workflows.create("Published one", QUICK)
    acme.fd.workflows.publish(published.id)
    first = acme.fd.workflows.list(limit=4)
    assert len(first.data) == 4 and first.has_more and first.next_cursor
    second = acme.fd.workflows.list(limit=4, cursor=first.next_cursor)
    assert len(second.data) == 2 and not second.has_more and second.next_cursor is None
    titles = [w.title for w in first.data + second.data]
    assert titles[0] == "Published one" and len(set(titles)) == 6
    assert [w.title for w in acme.fd.workflows.list(status="published").data] == [
        "Published one"]
    assert [w.title for w in acme.fd.workflows.list(search="flow 3").data] == ["Flow 3"]
    assert len(list(acme.fd.workflows.iterate())) == 6


@pytest.mark.parametrize("cursor", ["garbage", "bm90LWpzb24", "WzEsMl0", "W10"])
def test_a_bad_cursor_is_422_naming_it(acme: Tenant, cursor: str) -> None:
    body = assert_problem(acme.get(f"/api/v1/workflows?cursor={cursor}"), 422)
    assert body["errors"][0]["field"] == "cursor"


def test_read_scope_cannot_write(acme: Tenant) -> None:
    reader = mint(acme.workspace_id, scopes=["workflows:read"])
    response = acme.post("/api/v1/workflows", key=reader,
                         json={"title": "x", "definition": QUICK})
    assert assert_problem(response, 403)["missing_scope"] == "workflows:write"


def test_the_seed_004_demo_tools_are_registered() -> None:
    assert {"get_greeting", "get_counter", "knowledge_search", "knowledge_add",
            "is_admin"} <= known_tools()


def test_the_client_raises_the_problem(acme: Tenant) -> None:
    with pytest.raises(FlowdeskError) as caught:
        acme.fd.workflows.get("wf_missing")
    assert caught.value.status == 404 and caught.value.code == "NOT_FOUND"
