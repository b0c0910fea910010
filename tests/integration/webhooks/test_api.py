"""/api/v1/webhooks and seed 000's /api/public/webhooks over HTTP (TestClient, real database)."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Tenant, assert_problem, mint
from tests.integration.webhooks.receiver import serve
from tests.integration.webhooks.support import dispatcher, emit, verify
from tests.receiver import Reply

BASE = "/api/v1/webhooks"


def create(tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = tenant.post(BASE, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_shows_the_secret_once_and_never_again(acme: Tenant) -> None:
    response = acme.post(BASE, json={"url": "https://example.com/hook",
                                     "events": ["run.completed"], "description": "CRM"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert response.headers["location"] == f"{BASE}/{created['id']}"
    assert response.headers["etag"] == '"1"'
    assert created["events"] == ["run.completed"] and created["active"] is True
    fetched = acme.get(f"{BASE}/{created['id']}")
    assert fetched.status_code == 200 and "secret" not in fetched.json()
    assert {k: v for k, v in created.items() if k != "secret"} == fetched.json()
    page = acme.get(BASE).json()
    assert [w["id"] for w in page["data"]] == [created["id"]]
    assert page["has_more"] is False and "secret" not in page["data"][0]


def test_the_scope_is_required_and_named(acme: Tenant) -> None:
    reader = mint(acme.workspace_id, ["runs:read", "workflows:read"])
    body = assert_problem(acme.get(BASE, key=reader), 403, "FORBIDDEN")
    assert body["missing_scope"] == "webhooks:write"
    assert_problem(acme.http.get(BASE), 401, "UNAUTHORIZED")


def test_refused_targets_and_unknown_events_are_422_with_fields(acme: Tenant) -> None:
    body = assert_problem(acme.post(BASE, json={"url": "http://169.254.169.254/latest"}),
                          422, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == ["url"]
    assert "link-local" in body["errors"][0]["message"]
    body = assert_problem(acme.post(BASE, json={"url": "https://example.com/",
                                                "events": ["run.finished"]}), 422)
    assert [e["field"] for e in body["errors"]] == ["events"]


def test_patch_takes_if_match_and_refuses_nulls(acme: Tenant) -> None:
    hook = create(acme, url="https://example.com/a")
    path = f"{BASE}/{hook['id']}"
    changed = acme.request("PATCH", path, json={"url": "https://example.com/b"},
                           headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    assert changed.json()["url"] == "https://example.com/b"
    assert changed.headers["etag"] == '"2"'
    stale = acme.request("PATCH", path, json={"active": False}, headers={"If-Match": '"1"'})
    assert_problem(stale, 409, "CONFLICT")
    assert_problem(acme.request("PATCH", path, json={"events": None}), 422)
    off = acme.request("PATCH", path, json={"active": False}).json()
    assert off["active"] is False and off["disabled_reason"].startswith("turned off by")


def test_delete_and_another_workspace_see_404(acme: Tenant, globex: Tenant) -> None:
    hook = create(acme, url="https://example.com/")
    path = f"{BASE}/{hook['id']}"
    assert_problem(globex.get(path), 404, "NOT_FOUND")
    assert_problem(globex.request("DELETE", path), 404)
    assert_problem(globex.post(f"{path}/rotate-secret"), 404)
    assert acme.request("DELETE", path).status_code == 204
    assert_problem(acme.get(path), 404)


def test_rotate_secret_returns_the_new_one_and_both_sign(acme: Tenant) -> None:
    with serve() as receiver:
        hook = create(acme, url=receiver.url)
        rotated = acme.post(f"{BASE}/{hook['id']}/rotate-secret")
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        assert body["secret"] != hook["secret"] and body["version"] == 2
        assert body["previous_secret_expires_at"] is not None
        emit(acme.workspace_id)
        dispatcher().run_until_idle()
    verify(receiver.received[0], hook["secret"])
    verify(receiver.received[0], body["secret"])


def test_the_delivery_log_replay_and_test_ping(acme: Tenant) -> None:
    with serve(Reply(500), Reply(200)) as receiver:
        hook = create(acme, url=receiver.url, events=["run.completed"])
        event_id = emit(acme.workspace_id)
        dispatcher().run_until_idle()
        path = f"{BASE}/{hook['id']}"
        (entry,) = acme.get(f"{path}/deliveries").json()["data"]
        assert entry["event_id"] == event_id and entry["status"] == "pending"
        assert entry["attempts"] == 1 and entry["last_status_code"] == 500
        assert entry["next_attempt_at"] is not None and entry["last_latency_ms"] >= 0
        (attempt,) = entry["attempt_log"]
        assert attempt["number"] == 1 and attempt["status_code"] == 500
        assert_problem(acme.post(f"{path}/deliveries/{entry['id']}/replay"), 409)
        acme.request("PATCH", path, json={"active": False})
        acme.request("PATCH", path, json={"active": True})
        replay = acme.post(f"{path}/deliveries/{entry['id']}/replay")
        assert replay.status_code == 202, replay.text
        assert replay.json()["replay_of"] == entry["id"]
        ping = acme.post(f"{path}/test")
        assert ping.status_code == 202 and ping.json()["event_type"] == "webhook.test"
        dispatcher().run_until_idle()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert ids[0] == event_id and ids.count(event_id) == 2 and len(ids) == 3
    types = sorted(verify(r, hook["secret"])["event"] for r in receiver.received[1:])
    assert types == ["run.completed", "webhook.test"]
    log = acme.get(f"{path}/deliveries", params={"status": "succeeded"}).json()["data"]
    assert {d["event_type"] for d in log} == {"run.completed", "webhook.test"}
    one = acme.get(f"{path}/deliveries/{replay.json()['id']}").json()
    assert one["status"] == "succeeded" and one["attempt_log"][0]["status_code"] == 200
    assert_problem(acme.get(f"{path}/deliveries", params={"status": "lost"}), 422)


def test_the_seed_000_routes_register_list_and_remove(acme: Tenant) -> None:
    with serve() as receiver:
        response = acme.post("/api/public/webhooks", json={
            "url": receiver.url, "orgId": "org_legacy", "events": ["run.completed"]})
        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {"id", "url", "events", "active", "createdAt", "secret"}
        emit(acme.workspace_id)
        dispatcher().run_until_idle()
    payload = verify(receiver.received[0], created["secret"])
    assert payload["runId"] == "run_test" and payload["orgId"] == acme.workspace_id
    listed = acme.get("/api/public/webhooks").json()
    assert listed["total"] == 1 and listed["webhooks"][0]["id"] == created["id"]
    assert "secret" not in listed["webhooks"][0]
    assert_problem(acme.post("/api/public/webhooks", json={
        "url": receiver.url, "orgId": "ws_someone_else"}), 403)
    removed = acme.request("DELETE", f"/api/public/webhooks/{created['id']}")
    assert removed.status_code == 200 and removed.json() == {"id": created["id"],
                                                             "deleted": True}
    assert acme.get("/api/public/webhooks").json() == {"webhooks": [], "total": 0}


def test_every_webhook_mutation_is_audited(acme: Tenant) -> None:
    hook = create(acme, url="https://example.com/")
    path = f"{BASE}/{hook['id']}"
    acme.request("PATCH", path, json={"description": "x"})
    acme.post(f"{path}/rotate-secret")
    acme.post(f"{path}/test")
    acme.request("DELETE", path)
    response = acme.get("/api/v1/audit-events", params={"resource_id": hook["id"]})
    actions = sorted(e["action"] for e in response.json()["data"])
    assert actions == ["webhook.created", "webhook.deleted", "webhook.secret_rotated",
                       "webhook.tested", "webhook.updated"]
