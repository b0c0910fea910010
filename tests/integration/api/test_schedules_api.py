"""Schedules over the API: create with the next five due times and the cron in words, list by
workflow, change, pause and resume, run now (keyed), the fire history, delete; refusals are
422 problems naming the field, another workspace's schedule is 404, scopes are enforced."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.db import read_session
from app.models import Schedule
from tests.integration.api.conftest import Tenant, assert_problem, mint

REPORT = {"start": "intake", "steps": {
    "intake": {"kind": "input", "fields": [{"name": "team", "type": "text", "required": True}],
               "next": "done"},
    "done": {"kind": "tool", "tool": "set", "args": {"team": "{{ input.team }}"}}}}


def create(acme: Tenant, **extra: Any) -> dict[str, Any]:
    workflow_id = extra.pop("workflow_id", None) or acme.publish(REPORT, title="Report")
    body = {"workflow_id": workflow_id, "name": "Weekly", "cron": "0 9 * * mon",
            "timezone": "Europe/Berlin", "input": {"team": "sales"}, **extra}
    response = acme.post("/api/v1/schedules", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/schedules/{response.json()['id']}"
    return response.json()


def test_create_shows_words_and_next_five_mondays_at_nine_in_berlin(acme: Tenant) -> None:
    body = create(acme)
    assert body["description"] == "At 09:00, on Monday" and body["enabled"] is True
    times = [datetime.fromisoformat(t) for t in body["next_fire_times"]]
    assert len(times) == 5 and times == sorted(times)
    for at in times:  # 09:00 in Berlin in winter is 08:00 UTC, and a Monday
        assert at.weekday() == 0 and (at.hour, at.minute) == (8, 0)
    assert body["next_fire_at"] == body["next_fire_times"][0]
    assert body["missed_policy"] == "skip" and body["input"] == {"team": "sales"}
    got = acme.get(f"/api/v1/schedules/{body['id']}").json()
    assert got["id"] == body["id"] and got["next_fire_times"] == body["next_fire_times"]


def test_list_by_workflow_update_pause_resume_delete(acme: Tenant) -> None:
    first = create(acme)
    other = create(acme, cron="*/15 * * * *")
    listed = acme.get("/api/v1/schedules", params={"workflow_id": first["workflow_id"]}).json()
    assert [s["id"] for s in listed["data"]] == [first["id"]]
    assert {s["id"] for s in acme.get("/api/v1/schedules").json()["data"]} == {
        first["id"], other["id"]}
    changed = acme.request("PATCH", f"/api/v1/schedules/{first['id']}",
                           json={"cron": "30 7 * * 1-5", "missed_policy": "run_once"}).json()
    assert changed["description"] == "At 07:30, on Monday to Friday"
    assert changed["missed_policy"] == "run_once" and changed["name"] == "Weekly"
    paused = acme.post(f"/api/v1/schedules/{first['id']}/pause").json()
    assert paused["enabled"] is False and paused["next_fire_at"] is None
    assert paused["next_fire_times"] == []
    resumed = acme.post(f"/api/v1/schedules/{first['id']}/resume").json()
    assert resumed["enabled"] is True and resumed["next_fire_at"] is not None
    assert acme.request("DELETE", f"/api/v1/schedules/{first['id']}").status_code == 204
    assert_problem(acme.get(f"/api/v1/schedules/{first['id']}"), 404)


def test_run_now_is_keyed_and_recorded_in_the_history(acme: Tenant) -> None:
    schedule = create(acme)
    response = acme.post(f"/api/v1/schedules/{schedule['id']}/run-now",
                         headers={"Idempotency-Key": "now-1"})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["trigger"] == "schedule" and run["input"] == {"team": "sales"}
    assert response.headers["Location"] == f"/api/v1/runs/{run['id']}"
    again = acme.post(f"/api/v1/schedules/{schedule['id']}/run-now",
                      headers={"Idempotency-Key": "now-1"})
    assert again.json()["id"] == run["id"]
    assert acme.world is not None
    acme.world.drain()
    fires = acme.get(f"/api/v1/schedules/{schedule['id']}/fires").json()["data"]
    assert [(f["kind"], f["run_id"], f["run_status"]) for f in fires] == [
        ("run_now", run["id"], "COMPLETED")]
    got = acme.get(f"/api/v1/schedules/{schedule['id']}").json()
    assert got["last_run_id"] == run["id"]
    assert got["next_fire_at"] == schedule["next_fire_at"]  # its due times stay


def test_bad_input_is_a_problem_naming_each_field(acme: Tenant) -> None:
    workflow_id = acme.publish(REPORT, title="Report")
    base = {"workflow_id": workflow_id, "cron": "0 9 * * *", "input": {"team": "x"}}
    cases = [({"cron": "61 * * * *"}, "cron", "minute: 61 is out of range 0-59"),
             ({"cron": "* * * *"}, "cron", "needs 5 fields"),
             ({"cron": "0 0 30 2 *"}, "cron", "never comes due"),
             ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
             ({"input": {}}, "input.team", ""),
             ({"workflow_id": "wf_nope"}, "workflow_id", "no workflow"),
             ({"missed_policy": "always"}, "missed_policy", "")]
    for change, field, words in cases:
        body = assert_problem(acme.post("/api/v1/schedules", json={**base, **change}), 422)
        assert body["errors"][0]["field"].endswith(field), (change, body)
        assert words in body["errors"][0]["message"], (change, body)
    draft = acme.fd.workflows.create("Draft", REPORT).id
    body = assert_problem(acme.post("/api/v1/schedules",
                                    json={**base, "workflow_id": draft}), 422)
    assert "publish it first" in body["errors"][0]["message"]
    created = create(acme, workflow_id=workflow_id)
    body = assert_problem(acme.request("PATCH", f"/api/v1/schedules/{created['id']}",
                                       json={"timezone": "Nowhere", "cron": None}), 422)
    assert {e["field"] for e in body["errors"]} >= {"cron"}
    with read_session() as session:  # a refused change writes nothing
        stored = session.get(Schedule, created["id"])
        assert stored is not None and stored.timezone == "Europe/Berlin"
    preview = acme.get("/api/v1/schedules/preview",
                       params={"cron": "*/10 * * * *", "timezone": "UTC"}).json()
    assert preview["description"] == "Every 10 minutes, every day"
    first, second = (datetime.fromisoformat(t) for t in preview["next_fire_times"][:2])
    assert second - first == timedelta(minutes=10)
    body = assert_problem(acme.get("/api/v1/schedules/preview", params={"cron": "nope"}), 422)
    assert body["errors"][0]["field"] == "cron"


def test_other_workspace_and_scopes(acme: Tenant, globex: Tenant) -> None:
    schedule = create(acme)
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/pause"),
                         ("POST", "/run-now"), ("GET", "/fires")):
        kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
        assert_problem(globex.request(method, f"/api/v1/schedules/{schedule['id']}{path}",
                                      **kwargs), 404)
    assert globex.get("/api/v1/schedules").json()["data"] == []
    reader = mint(acme.workspace_id, scopes=["workflows:read"])
    assert acme.get(f"/api/v1/schedules/{schedule['id']}", key=reader).status_code == 200
    assert_problem(acme.post(f"/api/v1/schedules/{schedule['id']}/pause", key=reader), 403)
    assert_problem(acme.post(f"/api/v1/schedules/{schedule['id']}/run-now", key=reader), 403)


def test_the_python_client_covers_schedules(acme: Tenant) -> None:
    workflow_id = acme.publish(REPORT, title="Report")
    fd = acme.fd.schedules
    assert fd.preview("@daily").description == "At 00:00, every day"
    made = fd.create(workflow_id, "0 6 * * *", input={"team": "ops"}, name="Early")
    assert [s.id for s in fd.list(workflow_id=workflow_id).data] == [made.id]
    assert fd.update(made.id, name="Dawn").name == "Dawn"
    assert fd.pause(made.id).enabled is False and fd.resume(made.id).enabled is True
    run = fd.run_now(made.id)
    assert run.trigger == "schedule" and fd.fires(made.id).data[0].run_id == run.id
    assert fd.get(made.id).last_run_id == run.id
    fd.delete(made.id)
    assert fd.list().data == []
