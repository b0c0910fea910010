"""The Python client covers every /api/v1 operation of the OpenAPI document: each operationId
has a method, and calling it sends that operation's method and path. The seed products' own
shapes (tags `compat: …`) are for their clients, not this one."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest

from app.api.main import create_api
from app.client import FlowdeskClient
from tests.integration.api.conftest import GATED, Tenant

HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
ID = "x1"
CALLS: dict[str, Callable[[FlowdeskClient], object]] = {
    "health": lambda fd: fd.health(),
    "list_workspaces": lambda fd: fd.workspaces.list(),
    "get_workspace": lambda fd: fd.workspaces.get(ID),
    "update_workspace": lambda fd: fd.workspaces.set_default_error_workflow(ID, None),
    "list_workflows": lambda fd: fd.workflows.list(),
    "create_workflow": lambda fd: fd.workflows.create("Flow", {}),
    "get_workflow": lambda fd: fd.workflows.get(ID),
    "update_workflow": lambda fd: fd.workflows.update(ID, title="New"),
    "delete_workflow": lambda fd: fd.workflows.delete(ID),
    "validate_workflow": lambda fd: fd.workflows.validate(ID),
    "publish_workflow": lambda fd: fd.workflows.publish(ID),
    "list_workflow_versions": lambda fd: fd.workflows.versions(ID),
    "get_workflow_version": lambda fd: fd.workflows.version(ID, 1),
    "trigger_workflow_run": lambda fd: fd.runs.trigger(ID),
    "list_workflow_runs": lambda fd: fd.workflows.runs(ID),
    "create_run": lambda fd: fd.runs.create(ID),
    "list_runs": lambda fd: fd.runs.list(),
    "get_run": lambda fd: fd.runs.get(ID),
    "cancel_run": lambda fd: fd.runs.cancel(ID),
    "preview_rerun": lambda fd: fd.runs.rerun_preview(ID, "step"),
    "rerun_run": lambda fd: fd.runs.rerun(ID, "step"),
    "get_step": lambda fd: fd.steps.get(ID),
    "retry_step": lambda fd: fd.steps.retry(ID),
    "skip_step": lambda fd: fd.steps.skip(ID),
    "signal_step": lambda fd: fd.steps.ready(ID),
    "list_schedules": lambda fd: fd.schedules.list(),
    "create_schedule": lambda fd: fd.schedules.create(ID, "0 9 * * *"),
    "preview_schedule": lambda fd: fd.schedules.preview("0 9 * * *"),
    "get_schedule": lambda fd: fd.schedules.get(ID),
    "update_schedule": lambda fd: fd.schedules.update(ID, name="Daily"),
    "delete_schedule": lambda fd: fd.schedules.delete(ID),
    "pause_schedule": lambda fd: fd.schedules.pause(ID),
    "resume_schedule": lambda fd: fd.schedules.resume(ID),
    "run_schedule_now": lambda fd: fd.schedules.run_now(ID),
    "list_schedule_fires": lambda fd: fd.schedules.fires(ID),
    "list_approvals": lambda fd: fd.approvals.list(),
    "get_approval": lambda fd: fd.approvals.get(ID),
    "decide_approval": lambda fd: fd.approvals.decide(ID, "approved"),
    "delegate_approval": lambda fd: fd.approvals.delegate(ID, to="b@x.test", from_="a@x.test"),
    "reassign_approval": lambda fd: fd.approvals.reassign(ID, ["a@x.test"]),
    "get_out_of_office": lambda fd: fd.out_of_office.get("a@x.test"),
    "set_out_of_office": lambda fd: fd.out_of_office.set(
        "a@x.test", delegate_email="b@x.test", ends_at="2030-01-01T00:00:00Z"),
    "clear_out_of_office": lambda fd: fd.out_of_office.clear("a@x.test"),
    "list_forms": lambda fd: fd.forms.list(),
    "create_form": lambda fd: fd.forms.create("Form", []),
    "get_form": lambda fd: fd.forms.get(ID),
    "update_form": lambda fd: fd.forms.update(ID, title="New"),
    "delete_form": lambda fd: fd.forms.delete(ID),
    "publish_form": lambda fd: fd.forms.publish(ID),
    "list_form_versions": lambda fd: fd.forms.versions(ID),
    "submit_form": lambda fd: fd.forms.submit(ID, {}),
    "list_form_submissions": lambda fd: fd.forms.submissions(ID),
    "list_credentials": lambda fd: fd.credentials.list(),
    "create_credential": lambda fd: fd.credentials.create("crm", "bearer", "secret"),
    "get_credential": lambda fd: fd.credentials.get(ID),
    "delete_credential": lambda fd: fd.credentials.delete(ID),
    "upload_file": lambda fd: fd.files.upload("a.txt", b"hello"),
    "download_file": lambda fd: fd.files.download("tok"),
    "get_file": lambda fd: fd.files.get(ID),
    "list_audit_events": lambda fd: fd.audit.list(),
    "list_webhooks": lambda fd: fd.webhooks.list(),
    "create_webhook": lambda fd: fd.webhooks.create("https://example.com/hook"),
    "get_webhook": lambda fd: fd.webhooks.get(ID),
    "update_webhook": lambda fd: fd.webhooks.update(ID, active=False),
    "delete_webhook": lambda fd: fd.webhooks.delete(ID),
    "rotate_webhook_secret": lambda fd: fd.webhooks.rotate_secret(ID),
    "list_webhook_deliveries": lambda fd: fd.webhooks.deliveries(ID),
    "get_webhook_delivery": lambda fd: fd.webhooks.delivery(ID, ID),
    "replay_webhook_delivery": lambda fd: fd.webhooks.replay(ID, ID),
    "test_webhook": lambda fd: fd.webhooks.test(ID),
}


class Sent(Exception):
    def __init__(self, request: httpx.Request) -> None:
        super().__init__(f"{request.method} {request.url.path}")
        self.request = request


def _stop(request: httpx.Request) -> httpx.Response:
    raise Sent(request)


@pytest.fixture
def operations(sqlite_db: str) -> dict[str, tuple[str, str]]:
    """operationId → (METHOD, path template) of every operation this client is for."""
    found: dict[str, tuple[str, str]] = {}
    for path, item in create_api().openapi()["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and not any(
                    tag.startswith("compat") for tag in operation.get("tags", [])):
                found[operation["operationId"]] = (method.upper(), path)
    return found


def _sent_by(call: Callable[[FlowdeskClient], object]) -> httpx.Request:
    fd = FlowdeskClient("http://flowdesk.test", api_key="fdk_test",
                        transport=httpx.MockTransport(_stop))
    with pytest.raises(Sent) as sent:
        call(fd)
    return sent.value.request


def _matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


def test_every_operation_of_the_document_has_a_client_method(
        operations: dict[str, tuple[str, str]]) -> None:
    missing = sorted(set(operations) - set(CALLS))
    assert not missing, f"operations without a client method: {missing}"
    stale = sorted(set(CALLS) - set(operations))
    assert not stale, f"client methods of operations the document no longer has: {stale}"


def test_each_client_method_sends_its_operation(operations: dict[str, tuple[str, str]]) -> None:
    wrong: list[str] = []
    for operation_id, (method, template) in operations.items():
        if operation_id not in CALLS:
            continue
        request = _sent_by(CALLS[operation_id])
        if request.method != method or not _matches(template, request.url.path):
            wrong.append(f"{operation_id}: sent {request.method} {request.url.path}, "
                         f"the document says {method} {template}")
    assert not wrong, "\n".join(wrong)


def test_posts_that_start_runs_carry_a_fresh_idempotency_key() -> None:
    first = _sent_by(CALLS["create_run"]).headers["idempotency-key"]
    assert first != _sent_by(CALLS["create_run"]).headers["idempotency-key"]


# ---------------------------------------------------------------- the newer methods, live


def test_runs_create_starts_the_workflow_named_in_the_body(acme: Tenant) -> None:
    workflow_id = acme.publish(GATED)
    run = acme.fd.runs.create(workflow_id)
    assert run.workflow_id == workflow_id
    assert acme.fd.runs.get(run.id).id == run.id


def test_files_upload_get_and_download_round_trip(acme: Tenant) -> None:
    uploaded = acme.fd.files.upload("note.txt", b"hello, files")
    assert uploaded.size == len(b"hello, files")
    fetched = acme.fd.files.get(uploaded.id)
    assert fetched.sha256 == uploaded.sha256
    assert acme.fd.files.download(fetched.download_url) == b"hello, files"


def test_webhooks_are_managed_through_the_client(acme: Tenant) -> None:
    created = acme.fd.webhooks.create("https://example.com/hook", ["run.completed"],
                                      description="CRM")
    assert created.secret.startswith("whsec_")
    assert [w.id for w in acme.fd.webhooks.iterate()] == [created.id]
    updated = acme.fd.webhooks.update(created.id, version=created.version, active=False)
    assert updated.active is False and acme.fd.webhooks.get(created.id).active is False
    rotated = acme.fd.webhooks.rotate_secret(created.id)
    assert rotated.secret != created.secret
    acme.fd.webhooks.update(created.id, active=True)
    ping = acme.fd.webhooks.test(created.id)
    assert ping.event_type == "webhook.test"
    assert [d.id for d in acme.fd.webhooks.deliveries(created.id).data] == [ping.id]
    assert acme.fd.webhooks.delivery(created.id, ping.id).id == ping.id
    acme.fd.webhooks.delete(created.id)
    assert acme.fd.webhooks.list().data == []


def test_forms_publish_a_draft_as_a_version(acme: Tenant) -> None:
    form = acme.fd.forms.create("Intake", [{"name": "Email", "type": "email"}])
    published = acme.fd.forms.publish(form.id)
    assert published.is_published is True
    assert [v.number for v in acme.fd.forms.versions(form.id).data] == [1]


def test_health_needs_no_key(acme: Tenant) -> None:
    assert FlowdeskClient(http=acme.http).health() == {"status": "ok"}


