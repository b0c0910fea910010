"""Another workspace's objects do not exist for a key: every route taking an id answers 404
(never 403, which would confirm the object), and nothing of theirs changes."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import RunStatus
from tests.integration.api.conftest import FLAKY, GATED, JANE, ONBOARDING, Tenant, assert_problem


@pytest.fixture
def theirs(acme: Tenant, globex: Tenant) -> dict[str, Any]:
    """Globex's objects of every kind."""
    fd = globex.fd
    workflow_id = globex.publish(ONBOARDING, "Globex onboarding")
    blocked = fd.runs.trigger(workflow_id, JANE)
    flagged = fd.runs.trigger(globex.publish(FLAKY, "Flaky"))
    gated = fd.runs.trigger(globex.publish(GATED, "Gated"))
    acme.world.drain()
    approval = fd.approvals.list(run_id=blocked.id).data[0]
    failed_step = next(s for s in fd.runs.get(flagged.id).steps if s.status == "failed")
    gate = fd.runs.get(gated.id).steps[0]
    form = fd.forms.create("Globex form", [{"name": "Email", "type": "email"}])
    submission = fd.forms.submit(form.id, {"Email": "a@globex.test"})
    credential = fd.credentials.create("globex-token", "bearer", "secret")
    started = globex.post("/api/workflow", json={
        "name": "seed", "flow": {"start": {"name": "gate", "tool": None, "next": "end"},
                                 "end": {"name": "end", "tool": "get_counter", "done": True}},
        "input": {}}).json()
    flow = globex.get(f"/api/workflow/{started['id']}").json()
    return {"ws": globex.workspace_id, "wf": workflow_id, "run": blocked.id,
            "apr": approval.id, "failed": failed_step.id, "gate": gate.id, "frm": form.id,
            "sub": submission.id, "cred": credential.id, "num": started["id"],
            "step_num": flow["steps"][0]["id"]}


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/v1/workspaces/{ws}", None),
    ("GET", "/api/v1/workflows/{wf}", None),
    ("PATCH", "/api/v1/workflows/{wf}", {"title": "hijacked"}),
    ("DELETE", "/api/v1/workflows/{wf}", None),
    ("POST", "/api/v1/workflows/{wf}/validate", {}),
    ("POST", "/api/v1/workflows/{wf}/publish", None),
    ("GET", "/api/v1/workflows/{wf}/versions", None),
    ("GET", "/api/v1/workflows/{wf}/versions/1", None),
    ("GET", "/api/v1/workflows/{wf}/runs", None),
    ("POST", "/api/v1/workflows/{wf}/runs", {"input": JANE}),
    ("POST", "/api/v1/runs", {"workflow_id": "{wf}", "input": JANE}),
    ("GET", "/api/v1/runs/{run}", None),
    ("POST", "/api/v1/runs/{run}/cancel", {}),
    ("GET", "/api/v1/steps/{failed}", None),
    ("POST", "/api/v1/steps/{failed}/retry", None),
    ("POST", "/api/v1/steps/{failed}/skip", None),
    ("POST", "/api/v1/steps/{gate}/ready", {}),
    ("GET", "/api/v1/approvals/{apr}", None),
    ("POST", "/api/v1/approvals/{apr}/decide", {"decision": "approved"}),
    ("GET", "/api/v1/forms/{frm}", None),
    ("PATCH", "/api/v1/forms/{frm}", {"title": "hijacked"}),
    ("DELETE", "/api/v1/forms/{frm}", None),
    ("POST", "/api/v1/forms/{frm}/submissions", {"data": {"Email": "x@acme.test"}}),
    ("GET", "/api/v1/forms/{frm}/submissions", None),
    ("GET", "/api/v1/credentials/{cred}", None),
    ("DELETE", "/api/v1/credentials/{cred}", None),
    ("POST", "/api/public/runs/trigger", {"workflowId": "{wf}", "input": JANE}),
    ("GET", "/api/public/runs/{run}", None),
    ("GET", "/api/workflow/{num}", None),
    ("DELETE", "/api/workflow/{num}", None),
    ("POST", "/api/workflow/{step_num}/ready", None),
]


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    return value


def test_every_route_with_an_id_answers_404_for_another_workspace(
        acme: Tenant, globex: Tenant, theirs: dict[str, Any]) -> None:
    for method, template, body in ROUTES:
        path = _fill(template, theirs)
        kwargs = {"json": _fill(body, theirs)} if body is not None else {}
        response = acme.request(method, path, **kwargs)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
        assert_problem(response, 404, "NOT_FOUND")
    # Nothing of Globex's changed.
    assert globex.fd.workflows.get(theirs["wf"]).title == "Globex onboarding"
    assert globex.fd.runs.get(theirs["run"]).status == RunStatus.BLOCKED
    assert globex.fd.approvals.get(theirs["apr"]).status == "pending"
    assert globex.fd.steps.get(theirs["failed"]).status == "failed"
    assert globex.fd.forms.get(theirs["frm"]).title == "Globex form"
    assert globex.fd.credentials.get(theirs["cred"]).name == "globex-token"
    assert globex.get(f"/api/workflow/{theirs['num']}").json()["status"] == "running"


def test_lists_show_only_the_keys_workspace(acme: Tenant, theirs: dict[str, Any]) -> None:
    mine = acme.publish(ONBOARDING, "Acme onboarding")
    for path in ("/api/v1/workflows", "/api/v1/runs", "/api/v1/approvals", "/api/v1/forms",
                 "/api/v1/credentials", "/api/v1/audit-events", "/api/v1/workspaces"):
        listed = acme.get(path).json()["data"]
        ids = {item["id"] for item in listed}
        assert not ids & set(map(str, theirs.values())), path
    assert [w["id"] for w in acme.get("/api/public/workflows").json()["workflows"]] == [mine]
    assert acme.get("/api/workflow").json() == []
