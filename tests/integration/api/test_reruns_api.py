"""Re-runs and error workflows over the API: preview, re-run with a key (Location, link to
the old run), refusals naming the field; the error workflow settings of a workflow and of
the workspace."""

from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Tenant, assert_problem
from tests.integration.test_error_workflows import FAILING, NOTIFY, start_due
from tests.integration.test_reruns import V1


def flagged(acme: Tenant, definition: dict[str, Any]) -> tuple[str, str]:
    workflow_id = acme.publish(definition, title="Pay")
    run = acme.fd.runs.trigger(workflow_id)
    assert acme.world is not None
    acme.world.drain()
    assert acme.fd.runs.get(run.id).status == "FLAGGED"
    return workflow_id, run.id


def test_preview_then_rerun_from_a_step(acme: Tenant) -> None:
    _, run_id = flagged(acme, V1)
    shown = acme.fd.runs.rerun_preview(run_id, "charge")
    assert [s.key for s in shown.steps] == ["charge", "notify"]
    assert shown.side_effect_steps == ["notify"] and shown.kept_outputs == ["fetch"]
    response = acme.post(f"/api/v1/runs/{run_id}/rerun", json={"from_step": "charge"},
                         headers={"Idempotency-Key": "rerun-1"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["trigger"] == "rerun" and body["source_run_id"] == run_id
    assert body["current_step"] == "charge" and body["outputs"] == {"fetch": {"amount": 42}}
    assert response.headers["Location"] == f"/api/v1/runs/{body['id']}"
    again = acme.post(f"/api/v1/runs/{run_id}/rerun", json={"from_step": "charge"},
                      headers={"Idempotency-Key": "rerun-1"})
    assert again.json()["id"] == body["id"]  # the key replays: one re-run
    listed = acme.fd.runs.list(trigger="rerun").data
    assert [r.id for r in listed] == [body["id"]] and listed[0].source_run_id == run_id


def test_rerun_refusals_are_problems_naming_the_field(acme: Tenant) -> None:
    _, run_id = flagged(acme, V1)
    body = assert_problem(acme.post(f"/api/v1/runs/{run_id}/rerun",
                                    json={"from_step": "notify"}), 422)
    assert body["errors"][0]["field"] == "from_step"
    body = assert_problem(acme.post(f"/api/v1/runs/{run_id}/rerun",
                                    json={"from_step": "charge", "version": "newest"}), 422)
    assert "version" in body["errors"][0]["field"]
    assert_problem(acme.get("/api/v1/runs/run_nope/rerun-preview",
                            params={"from_step": "a"}), 404)


def test_error_workflow_settings(acme: Tenant) -> None:
    notify = acme.publish(NOTIFY, title="Tell ops")
    failing = acme.publish(FAILING, title="Charge")
    before = acme.fd.workflows.get(failing).version
    updated = acme.fd.workflows.update(failing, error_workflow_id=notify)
    assert updated.error_workflow_id == notify and updated.version == before  # not a draft edit
    body = assert_problem(acme.request("PATCH", f"/api/v1/workflows/{failing}",
                                       json={"error_workflow_id": failing}), 422)
    assert body["errors"][0]["field"] == "error_workflow_id"
    workspace = acme.fd.workspaces.set_default_error_workflow(acme.workspace_id, notify)
    assert workspace.default_error_workflow_id == notify
    body = assert_problem(acme.request("PATCH", f"/api/v1/workspaces/{acme.workspace_id}",
                                       json={"default_error_workflow_id": "wf_x"}), 422)
    assert body["errors"][0]["field"] == "default_error_workflow_id"
    _, run_id = flagged(acme, FAILING)  # a workflow of its own: the default applies
    start_due()
    (error_run,) = acme.fd.runs.list(trigger="error").data
    assert error_run.source_run_id == run_id and error_run.workflow_id == notify


def test_an_empty_workspace_patch_changes_nothing(acme: Tenant) -> None:
    notify = acme.publish(NOTIFY, title="Tell ops")
    path = f"/api/v1/workspaces/{acme.workspace_id}"
    set_ = acme.request("PATCH", path, json={"default_error_workflow_id": notify})
    assert set_.status_code == 200 and set_.json()["default_error_workflow_id"] == notify
    kept = acme.request("PATCH", path, json={})
    assert kept.status_code == 200 and kept.json()["default_error_workflow_id"] == notify
    cleared = acme.request("PATCH", path, json={"default_error_workflow_id": None})
    assert cleared.json()["default_error_workflow_id"] is None
