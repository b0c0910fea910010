"""Seed 001's shapes on /api/v1: the X-Api-Key and X-Workspace-Id headers, offset pages
(`page`, `per_page`), `next_page_token`, and structured filters as the `filters` query
parameter or the body of POST …/search (an array, or an object with `filters`)."""

from __future__ import annotations

import json

import pytest

from tests.integration.api.conftest import QUICK, Tenant, assert_problem

SEARCHABLE = ["/api/v1/runs", "/api/v1/workflows", "/api/v1/approvals", "/api/v1/webhooks",
              "/api/v1/schedules", "/api/v1/credentials", "/api/v1/forms"]


def seed_headers(tenant: Tenant) -> dict[str, str]:
    # Seed 001: "X-Api-Key: <key>" and "X-Workspace-Id: <id>" on every request.
    return {"X-Api-Key": tenant.key, "X-Workspace-Id": tenant.workspace_id}


def three_runs(tenant: Tenant) -> list[str]:
    workflow_id = tenant.publish(QUICK)
    return [tenant.fd.runs.trigger(workflow_id, {}).id for _ in range(3)]


def test_the_workspaces_call_with_seed_headers_names_the_keys_workspace(acme: Tenant) -> None:
    response = acme.http.get("/api/v1/workspaces", headers=seed_headers(acme))
    assert response.status_code == 200, response.text
    assert [w["id"] for w in response.json()["data"]] == [acme.workspace_id]


def test_x_workspace_id_of_another_workspace_is_404_on_every_resource(
        acme: Tenant, globex: Tenant) -> None:
    headers = {"X-Api-Key": acme.key, "X-Workspace-Id": globex.workspace_id}
    for path in SEARCHABLE:
        body = assert_problem(acme.http.get(path, headers=headers), 404, "NOT_FOUND")
        assert body["reason"] == "workspace_mismatch"


def test_offset_pages_take_page_and_per_page(acme: Tenant) -> None:
    ids = three_runs(acme)[::-1]  # newest first
    first = acme.get("/api/v1/runs", params={"page": 1, "per_page": 2}).json()
    assert [r["id"] for r in first["data"]] == ids[:2]
    assert first["page"] == 1 and first["per_page"] == 2 and first["has_more"] is True
    last = acme.get("/api/v1/runs", params={"page": 2, "per_page": 2}).json()
    assert [r["id"] for r in last["data"]] == ids[2:]
    assert last["has_more"] is False and "next_page_token" not in last
    assert acme.get("/api/v1/runs", params={"page": 3, "per_page": 2}).json()["data"] == []


def test_next_page_token_is_passed_back_for_the_following_page(acme: Tenant) -> None:
    ids = three_runs(acme)[::-1]
    first = acme.get("/api/v1/runs", params={"per_page": 2}).json()
    assert first["next_page_token"] == first["next_cursor"]
    second = acme.get("/api/v1/runs", params={"next_page_token": first["next_page_token"]})
    assert [r["id"] for r in second.json()["data"]] == ids[2:]
    assert "next_page_token" not in second.json()


@pytest.mark.parametrize(("params", "field"), [
    ({"page": 2, "cursor": "abc"}, "page"),
    ({"limit": 5, "per_page": 10}, "per_page"),
    ({"cursor": "a", "next_page_token": "b"}, "next_page_token"),
])
def test_contradictory_paging_is_422_naming_the_parameter(acme: Tenant, params: dict,
                                                          field: str) -> None:
    body = assert_problem(acme.get("/api/v1/runs", params=params), 422)
    assert body["errors"][0]["field"] == field


def test_filters_narrow_a_list_and_all_must_hold(acme: Tenant) -> None:
    ids = three_runs(acme)
    conditions = [{"attribute": "id", "operator": "in", "values": ids[:2]},
                  {"attribute": "status", "operator": "neq", "values": ["CANCELLED"]},
                  {"attribute": "created_at", "operator": "gte",
                   "values": ["2000-01-01T00:00:00Z"]}]
    response = acme.get("/api/v1/runs", params={"filters": json.dumps(conditions)})
    assert response.status_code == 200, response.text
    assert sorted(r["id"] for r in response.json()["data"]) == sorted(ids[:2])


def test_search_takes_the_array_or_an_object_with_filters_and_paging(acme: Tenant) -> None:
    ids = three_runs(acme)
    condition = {"attribute": "workflow_title", "operator": "contains", "values": ["FLO"]}
    array = acme.post("/api/v1/runs/search", json=[condition])
    assert array.status_code == 200, array.text
    assert len(array.json()["data"]) == 3
    wrapped = acme.post("/api/v1/runs/search",
                        json={"filters": [condition], "page": 2, "per_page": 2}).json()
    assert [r["id"] for r in wrapped["data"]] == [ids[0]]
    assert wrapped["page"] == 2 and wrapped["per_page"] == 2


@pytest.mark.parametrize("path", SEARCHABLE)
def test_every_searchable_list_filters_by_id(acme: Tenant, path: str) -> None:
    condition = [{"attribute": "id", "operator": "eq", "values": ["nothing_like_it"]}]
    searched = acme.post(f"{path}/search", json=condition)
    assert searched.status_code == 200, searched.text
    assert searched.json()["data"] == []
    listed = acme.get(path, params={"filters": json.dumps(condition), "page": 1})
    assert listed.status_code == 200 and listed.json()["data"] == []


@pytest.mark.parametrize(("condition", "field", "words"), [
    ({"attribute": "colour", "operator": "eq", "values": ["red"]},
     "filters[0].attribute", "'colour' is not a filterable attribute"),
    ({"attribute": "status", "operator": "contains", "values": ["BL"]},
     "filters[0].operator", "'contains' does not apply to 'status'"),
    ({"attribute": "status", "operator": "eq", "values": ["SLEEPING"]},
     "filters[0].values[0]", "must be one of"),
    ({"attribute": "created_at", "operator": "between", "values": ["2026-01-01T00:00:00Z"]},
     "filters[0].values", "takes two values"),
    ({"attribute": "created_at", "operator": "gt", "values": ["yesterday"]},
     "filters[0].values[0]", "RFC 3339"),
])
def test_a_bad_condition_is_422_naming_what_is_wrong(acme: Tenant, condition: dict,
                                                     field: str, words: str) -> None:
    for response in (acme.post("/api/v1/runs/search", json=[condition]),
                     acme.get("/api/v1/runs", params={"filters": json.dumps([condition])})):
        body = assert_problem(response, 422, "VALIDATION_ERROR")
        assert body["errors"][0]["field"] == field
        assert words in body["errors"][0]["message"]


def test_a_filters_parameter_that_is_not_a_json_array_is_422(acme: Tenant) -> None:
    body = assert_problem(acme.get("/api/v1/runs", params={"filters": "status=BLOCKED"}), 422)
    assert body["errors"][0]["field"] == "filters"


def test_a_forms_submissions_take_offset_pages_and_filters(acme: Tenant) -> None:
    form = acme.post("/api/v1/forms", json={"title": "Contact", "fields": [
        {"name": "email", "type": "email", "required": True}]}).json()
    sent = [acme.post(f"/api/v1/forms/{form['id']}/submissions",
                      json={"data": {"email": f"{n}@acme.test"}}).json()["id"] for n in range(3)]
    path = f"/api/v1/forms/{form['id']}/submissions"
    second = acme.get(path, params={"page": 2, "per_page": 2}).json()
    assert [s["id"] for s in second["data"]] == [sent[0]] and second["page"] == 2
    only = json.dumps([{"attribute": "id", "operator": "eq", "values": [sent[1]]}])
    assert [s["id"] for s in acme.get(path, params={"filters": only}).json()["data"]] == [
        sent[1]]
    bad = json.dumps([{"attribute": "email", "operator": "eq", "values": ["x"]}])
    body = assert_problem(acme.get(path, params={"filters": bad}), 422)
    assert body["errors"][0]["field"] == "filters[0].attribute"
