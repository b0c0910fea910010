"""Runs through the API: trigger (and wait), follow, list, cancel; steps retried, skipped and
signalled; approvals decided. The executor runs inline (World.drain)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from app.db import write_session
from app.models import RunStatus, Workspace
from tests.integration.api.conftest import (
    FLAKY,
    GATED,
    JANE,
    ONBOARDING,
    QUICK,
    Tenant,
    assert_problem,
    mint,
)


@contextmanager
def executor_running(tenant: Tenant) -> Iterator[None]:
    """The executor in a background thread, as the app's scheduler would run it."""
    assert tenant.world is not None
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            tenant.world.drain()  # type: ignore[union-attr]
            time.sleep(0.01)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def test_trigger_answers_201_with_the_run_and_its_first_step(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    response = acme.post(f"/api/v1/workflows/{workflow_id}/runs", json={"input": JANE})
    assert response.status_code == 201
    run = response.json()
    assert run["status"] == "IN_PROGRESS" and run["workflow_id"] == workflow_id
    assert run["input"] == JANE and run["trigger"] == "api"
    assert [s["key"] for s in run["steps"]] == ["intake"]
    assert response.headers["location"] == f"/api/v1/runs/{run['id']}"


def test_a_run_goes_through_approval_to_completion(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(ONBOARDING), JANE)
    acme.world.drain()
    assert acme.fd.runs.get(run.id).status == RunStatus.BLOCKED
    pending = acme.fd.approvals.list(status="pending")
    assert [a.run_id for a in pending.data] == [run.id]
    approval = acme.fd.approvals.get(pending.data[0].id)
    assert approval.instructions == "Approve Jane Doe"
    decider = acme.another_key()
    decided = decider.approvals.decide(approval.id, "approved", comment="welcome")
    assert decided.status == "approved" and decided.decided_by == decider.api_key[:12]
    acme.world.drain()
    done = acme.fd.runs.get(run.id)
    assert done.status == RunStatus.COMPLETED
    assert done.outputs["welcome"] == {"message": "Welcome Jane Doe"}
    assert [s.key for s in done.steps] == ["intake", "manager", "welcome"]
    welcome = done.steps[-1]
    assert welcome.status == "done" and welcome.attempt == 1
    assert welcome.duration_ms is not None and welcome.result == {"message": "Welcome Jane Doe"}
    again = acme.post(f"/api/v1/approvals/{approval.id}/decide", json={"decision": "approved"})
    assert_problem(again, 409, "CONFLICT")


def test_an_unknown_decision_is_422(acme: Tenant) -> None:
    acme.fd.runs.trigger(acme.publish(ONBOARDING), JANE)
    acme.world.drain()
    approval = acme.fd.approvals.list().data[0]
    response = acme.post(f"/api/v1/approvals/{approval.id}/decide", json={"decision": "maybe"})
    assert assert_problem(response, 422)["errors"][0]["field"] == "decision"


def test_wait_answers_once_the_run_blocks(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    with executor_running(acme):
        started = time.monotonic()
        run = acme.fd.runs.trigger(workflow_id, JANE, wait=10)
    assert run.status == RunStatus.BLOCKED
    assert time.monotonic() - started < 5
    assert [s.key for s in run.steps] == ["intake", "manager"]


def test_wait_answers_the_completed_run_with_its_outputs(acme: Tenant) -> None:
    workflow_id = acme.publish(QUICK)
    with executor_running(acme):
        response = acme.post(f"/api/v1/workflows/{workflow_id}/runs?wait=10", json={})
    assert response.status_code == 201
    assert response.json()["status"] == "COMPLETED"
    assert response.json()["outputs"] == {"hello": {"hello": "world"}}


def test_wait_gives_up_after_the_time_given(acme: Tenant) -> None:
    started = time.monotonic()
    run = acme.fd.runs.trigger(acme.publish(QUICK), wait=0.3)  # no executor: it stays queued
    assert run.status == RunStatus.IN_PROGRESS
    assert 0.25 < time.monotonic() - started < 3


def test_wait_over_30_seconds_is_422(acme: Tenant) -> None:
    workflow_id = acme.publish(QUICK)
    response = acme.post(f"/api/v1/workflows/{workflow_id}/runs?wait=31", json={})
    assert assert_problem(response, 422)["errors"][0]["field"] == "wait"


def test_post_runs_takes_the_workflow_in_the_body(acme: Tenant) -> None:
    workflow_id = acme.publish(QUICK)
    response = acme.post("/api/v1/runs", json={"workflow_id": workflow_id})
    assert response.status_code == 201 and response.json()["workflow_id"] == workflow_id


def test_bad_input_is_422_naming_the_input_field(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    response = acme.post(f"/api/v1/workflows/{workflow_id}/runs",
                         json={"input": {"Full Name": "Jane", "Email": "not-an-email"}})
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == ["input.Email"]


def test_an_unpublished_workflow_cannot_run(acme: Tenant) -> None:
    draft = acme.fd.workflows.create("Draft", QUICK)
    assert_problem(acme.post(f"/api/v1/workflows/{draft.id}/runs", json={}), 409, "CONFLICT")
    assert_problem(acme.post("/api/v1/workflows/wf_nope/runs", json={}), 404)


def test_an_older_version_can_be_run(acme: Tenant) -> None:
    workflow_id = acme.publish(QUICK)
    changed = {"start": "hello", "steps": {"hello": {"kind": "tool", "tool": "set",
                                                      "args": {"v": 2}, "done": True}}}
    acme.fd.workflows.update(workflow_id, definition=changed)
    acme.fd.workflows.publish(workflow_id)
    assert acme.fd.runs.trigger(workflow_id, version=1).workflow_version == 1
    assert acme.fd.runs.trigger(workflow_id).workflow_version == 2
    response = acme.post(f"/api/v1/workflows/{workflow_id}/runs", json={"version": 7})
    assert_problem(response, 404)


def test_the_workspace_cap_on_concurrent_runs_is_429(acme: Tenant) -> None:
    with write_session() as session:
        workspace = session.get(Workspace, acme.workspace_id)
        assert workspace is not None
        workspace.max_concurrent_runs = 1
        session.add(workspace)
        session.commit()
    workflow_id = acme.publish(QUICK)
    acme.fd.runs.trigger(workflow_id)
    response = acme.post(f"/api/v1/workflows/{workflow_id}/runs", json={})
    body = assert_problem(response, 429, "CONCURRENCY_LIMITED")
    assert body["limit"] == 1 and response.headers["retry-after"]


def test_cancel_stops_the_run_and_its_approval(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(ONBOARDING), JANE)
    acme.world.drain()
    cancelled = acme.fd.runs.cancel(run.id, reason="duplicate")
    assert cancelled.status == RunStatus.CANCELLED
    assert acme.fd.approvals.list(run_id=run.id).data[0].status == "cancelled"
    assert_problem(acme.post(f"/api/v1/runs/{run.id}/cancel"), 409)


def test_a_failed_step_can_be_retried_or_skipped(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(FLAKY))
    acme.world.drain()
    flagged = acme.fd.runs.get(run.id)
    assert flagged.status == RunStatus.FLAGGED
    failed = flagged.steps[0]
    assert failed.status == "failed" and "failed on purpose" in (failed.error or "")
    retried = acme.fd.steps.retry(failed.id)
    assert retried.key == "boom" and retried.id != failed.id and retried.status == "pending"
    acme.world.drain()
    again = next(s for s in acme.fd.runs.get(run.id).steps if s.id == retried.id)
    assert again.status == "failed"
    assert acme.fd.steps.skip(again.id).status == "skipped"
    acme.world.drain()
    done = acme.fd.runs.get(run.id)
    assert done.status == RunStatus.COMPLETED and done.outputs["after"] == {"after": True}
    assert_problem(acme.post(f"/api/v1/steps/{again.id}/retry"), 409, "CONFLICT")
    assert_problem(acme.post(f"/api/v1/steps/{again.id}/skip"), 409, "CONFLICT")


def test_ready_releases_a_signal_step_with_its_payload(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(GATED))
    acme.world.drain()
    gate = acme.fd.runs.get(run.id).steps[0]
    assert acme.fd.steps.get(gate.id).status == "waiting"
    released = acme.fd.steps.ready(gate.id, {"ok": True})
    assert released.status == "done" and released.result["payload"] == {"ok": True}
    acme.world.drain()
    assert acme.fd.runs.get(run.id).status == RunStatus.COMPLETED
    assert_problem(acme.post(f"/api/v1/steps/{gate.id}/ready"), 409)


def test_ready_on_a_step_that_is_not_a_signal_is_409(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(QUICK))
    assert_problem(acme.post(f"/api/v1/steps/{run.steps[0].id}/ready"), 409)


def test_list_runs_filters_and_pages(acme: Tenant) -> None:
    quick = acme.publish(QUICK, "Quick")
    onboarding = acme.publish(ONBOARDING, "Onboarding")
    quick_runs = [acme.fd.runs.trigger(quick).id for _ in range(3)]
    blocked = acme.fd.runs.trigger(onboarding, JANE).id
    acme.world.drain()
    everything = acme.fd.runs.list()
    assert [r.id for r in everything.data] == [blocked, *reversed(quick_runs)]
    assert [r.id for r in acme.fd.runs.list(status="BLOCKED").data] == [blocked]
    assert {r.id for r in acme.fd.runs.list(status="COMPLETED,BLOCKED").data} == {
        blocked, *quick_runs}
    assert [r.id for r in acme.fd.runs.list(workflow_id=onboarding).data] == [blocked]
    assert [r.id for r in acme.fd.runs.list(search="onboard").data] == [blocked]
    assert len(acme.fd.runs.list(trigger="api").data) == 4
    assert acme.fd.runs.list(trigger="form").data == []
    page = acme.fd.runs.list(limit=3)
    rest = acme.fd.runs.list(limit=3, cursor=page.next_cursor)
    assert [r.id for r in page.data + rest.data] == [r.id for r in everything.data]
    assert [r.id for r in acme.fd.workflows.runs(quick).data] == list(reversed(quick_runs))
    created = everything.data[-1].created_at.isoformat()
    after = acme.get("/api/v1/runs", params={"created_after": created}).json()["data"]
    assert len(after) == 4
    before = acme.get("/api/v1/runs", params={"created_before": created}).json()["data"]
    assert before == []
    assert_problem(acme.get("/api/v1/runs?status=RUNNING"), 422)
    assert_problem(acme.get("/api/v1/runs?created_after=yesterday"), 422)


def test_a_run_key_without_runs_write_cannot_trigger(acme: Tenant) -> None:
    reader = mint(acme.workspace_id, scopes=["runs:read"])
    workflow_id = acme.publish(QUICK)
    response = acme.post(f"/api/v1/workflows/{workflow_id}/runs", key=reader, json={})
    assert assert_problem(response, 403)["missing_scope"] == "runs:write"
    decider = mint(acme.workspace_id, scopes=["runs:read"])
    response = acme.post("/api/v1/approvals/apr_x/decide", key=decider,
                         json={"decision": "approved"})
    assert assert_problem(response, 403)["missing_scope"] == "approvals:write"


@pytest.mark.parametrize("path", ["/api/v1/runs/run_nope", "/api/v1/steps/stp_nope",
                                  "/api/v1/approvals/apr_nope"])
def test_unknown_ids_are_404(acme: Tenant, path: str) -> None:
    assert_problem(acme.get(path), 404, "NOT_FOUND")
