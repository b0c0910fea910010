"""Forms and submissions, write-only credentials, the audit log and the key's workspace."""

from __future__ import annotations

from tests.integration.api.conftest import JANE, ONBOARDING, Tenant, assert_problem, mint

FIELDS = [{"name": "Full Name", "type": "text", "required": True},
          {"name": "Email", "type": "email", "required": True}]


def test_a_form_is_created_read_updated_and_deleted(acme: Tenant) -> None:
    response = acme.post("/api/v1/forms", json={"title": "Contact", "fields": FIELDS,
                                                 "slug": "contact-us", "is_published": True})
    assert response.status_code == 201
    form = response.json()
    assert form["slug"] == "contact-us" and form["public_url"].endswith("/f/contact-us")
    assert form["fields"][1]["type"] == "email" and form["version"] == 1
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/api/v1/forms/{form['id']}"
    fetched = acme.get(f"/api/v1/forms/{form['id']}")
    assert fetched.json()["title"] == "Contact" and fetched.headers["etag"] == '"1"'
    updated = acme.request("PATCH", f"/api/v1/forms/{form['id']}",
                           json={"title": "Contact us"}, headers={"If-Match": '"1"'})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = acme.request("PATCH", f"/api/v1/forms/{form['id']}", json={"title": "x"},
                         headers={"If-Match": '"1"'})
    assert assert_problem(stale, 409)["current_version"] == 2
    assert acme.request("DELETE", f"/api/v1/forms/{form['id']}").status_code == 204
    assert_problem(acme.get(f"/api/v1/forms/{form['id']}"), 404)


def test_invalid_forms_are_422_and_a_taken_slug_409(acme: Tenant) -> None:
    duplicate = [{"name": "Email"}, {"name": "email"}]
    body = assert_problem(acme.post("/api/v1/forms", json={"title": "x", "fields": duplicate}),
                          422)
    assert body["errors"][0]["field"] == "fields[1].name"
    select = [{"name": "Pick", "type": "select"}]
    assert_problem(acme.post("/api/v1/forms", json={"title": "x", "fields": select}), 422)
    acme.fd.forms.create("A", FIELDS, slug="taken")
    assert_problem(acme.post("/api/v1/forms", json={"title": "B", "fields": FIELDS,
                                                    "slug": "taken"}), 409)
    unknown = acme.post("/api/v1/forms", json={"title": "C", "fields": FIELDS,
                                               "workflow_id": "wf_nope"})
    assert assert_problem(unknown, 422)["errors"][0]["field"] == "workflow_id"
    empty = acme.post("/api/v1/forms", json={"title": "D", "fields": FIELDS, "workflow_id": ""})
    assert assert_problem(empty, 422)["errors"][0]["field"] == "workflow_id"
    form = acme.fd.forms.create("E", FIELDS)
    unlinked = acme.request("PATCH", f"/api/v1/forms/{form.id}", json={"workflow_id": ""})
    assert assert_problem(unlinked, 422)["errors"][0]["field"] == "workflow_id"


def test_a_submission_starts_the_forms_workflow(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    form = acme.fd.forms.create("Onboarding", FIELDS, workflow_id=workflow_id)
    response = acme.post(f"/api/v1/forms/{form.id}/submissions", json={"data": JANE})
    assert response.status_code == 201
    submission = response.json()
    assert submission["data"] == JANE and submission["run_id"].startswith("run_")
    run = acme.fd.runs.get(submission["run_id"])
    assert run.trigger == "form" and run.input == JANE
    listed = acme.fd.forms.submissions(form.id)
    assert [s.id for s in listed.data] == [submission["id"]]
    bad = acme.post(f"/api/v1/forms/{form.id}/submissions", json={"data": {"Email": "x"}})
    fields = {error["field"] for error in assert_problem(bad, 422)["errors"]}
    assert fields == {"Full Name", "Email"}


def test_forms_list_and_search(acme: Tenant) -> None:
    for title in ("Alpha", "Beta", "Gamma"):
        acme.fd.forms.create(title, FIELDS)
    assert [f.title for f in acme.fd.forms.list().data] == ["Gamma", "Beta", "Alpha"]
    assert [f.title for f in acme.fd.forms.list(search="bet").data] == ["Beta"]
    page = acme.fd.forms.list(limit=2)
    assert page.has_more and len(acme.fd.forms.list(cursor=page.next_cursor).data) == 1


def test_a_form_key_needs_form_scopes(acme: Tenant) -> None:
    key = mint(acme.workspace_id, scopes=["forms:read"])
    assert acme.get("/api/v1/forms", key=key).status_code == 200
    response = acme.post("/api/v1/forms", key=key, json={"title": "x", "fields": FIELDS})
    assert assert_problem(response, 403)["missing_scope"] == "forms:write"


def test_credentials_never_show_their_value(acme: Tenant) -> None:
    response = acme.post("/api/v1/credentials", json={
        "name": "hr-api", "type": "header", "value": "top-secret",
        "config": {"header": "X-Token"}})
    assert response.status_code == 201
    credential = response.json()
    assert "top-secret" not in response.text and "value" not in credential
    assert credential["config"] == {"header": "X-Token"}
    listed = acme.get("/api/v1/credentials")
    assert "top-secret" not in listed.text
    assert [c["name"] for c in listed.json()["data"]] == ["hr-api"]
    assert acme.fd.credentials.get(credential["id"]).type == "header"
    assert_problem(acme.post("/api/v1/credentials", json={
        "name": "hr-api", "type": "bearer", "value": "again"}), 409)
    assert_problem(acme.post("/api/v1/credentials", json={
        "name": "x", "type": "carrier-pigeon", "value": "v"}), 422)
    assert acme.request("DELETE", f"/api/v1/credentials/{credential['id']}").status_code == 204
    assert_problem(acme.get(f"/api/v1/credentials/{credential['id']}"), 404)
    assert_problem(acme.get("/api/v1/credentials/hr-api"), 404)


def test_credentials_need_their_scope(acme: Tenant) -> None:
    key = mint(acme.workspace_id, scopes=["runs:read"])
    body = assert_problem(acme.get("/api/v1/credentials", key=key), 403)
    assert body["missing_scope"] == "credentials:write"


def test_the_audit_log_lists_api_changes_newest_first(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    acme.fd.runs.trigger(workflow_id, JANE)
    events = acme.fd.audit.list()
    assert [e.action for e in events.data[:3]] == ["run.triggered", "workflow.published",
                                                   "workflow.created"]
    triggered = events.data[0]
    assert triggered.actor.type == "api_key" and triggered.actor.label == acme.key[:12]
    assert triggered.request_id and triggered.request_id.startswith("req_")
    only = acme.fd.audit.list(action="workflow.created")
    assert [e.resource_id for e in only.data] == [workflow_id]
    assert acme.fd.audit.list(resource_id=workflow_id).data
    key = mint(acme.workspace_id, scopes=["runs:read"])
    assert assert_problem(acme.get("/api/v1/audit-events", key=key), 403)[
        "missing_scope"] == "audit:read"


def test_workspaces_show_the_keys_own(acme: Tenant) -> None:
    key = mint(acme.workspace_id, scopes=["runs:read"])  # any live key may ask
    listed = acme.get("/api/v1/workspaces", key=key).json()
    assert [w["id"] for w in listed["data"]] == [acme.workspace_id]
    assert listed["has_more"] is False and listed["data"][0]["name"] == "Acme"
    assert acme.fd.workspaces.get(acme.workspace_id).name == "Acme"
    assert_problem(acme.get("/api/v1/workspaces/ws_other"), 404)
