"""A small typed client for the Flowdesk REST API v1 (httpx), used by the tests and benchmarks.

    with FlowdeskClient("http://localhost:3000", api_key="fdk_…") as fd:
        run = fd.runs.trigger("wf_…", {"Full Name": "Jane Doe"}, wait=10)
        for approval in fd.approvals.iterate(status="pending"):
            fd.approvals.decide(approval.id, "approved", comment="ok")

Every /api/v1 operation of the OpenAPI document has a method (a test keeps it so:
tests/integration/api/test_client_coverage.py). Every method returns the API's own response
models (app/api/schemas); an error answer raises `FlowdeskError` carrying the problem
document. Pass `http=` to reuse any `httpx.Client` (FastAPI's TestClient included) or
`transport=` for `httpx.MockTransport`.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import IO, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
from pydantic import BaseModel

from app.api.schemas.approvals import ApprovalPage, ApprovalPublic
from app.api.schemas.audit import AuditEventPage
from app.api.schemas.credentials import CredentialPage, CredentialPublic
from app.api.schemas.files import FilePublic
from app.api.schemas.forms import (
    FormPage,
    FormPublic,
    FormVersionList,
    SubmissionPage,
    SubmissionPublic,
)
from app.api.schemas.out_of_office import OutOfOfficePublic
from app.api.schemas.reruns import RerunPreview
from app.api.schemas.runs import RunPage, RunPublic, StepPublic
from app.api.schemas.schedules import FirePage, SchedulePage, SchedulePublic, Timing
from app.api.schemas.webhooks import (
    DeliveryPage,
    DeliveryPublic,
    WebhookCreated,
    WebhookPage,
    WebhookPublic,
    WebhookSecret,
)
from app.api.schemas.workflows import (
    ValidationReport,
    WorkflowPage,
    WorkflowPublic,
    WorkflowVersionPage,
    WorkflowVersionPublic,
)
from app.api.schemas.workspaces import WorkspacePage, WorkspacePublic

DEFAULT_TIMEOUT_S = 40.0  # above the longest run-and-wait (30 s)
API = "/api/v1"

Model = TypeVar("Model", bound=BaseModel)
Item = TypeVar("Item", bound=BaseModel)


class FlowdeskError(Exception):
    """An error answer: `status`, and the problem+json body (`code`, `detail`, `errors`)."""

    def __init__(self, status: int, problem: Mapping[str, Any], response: httpx.Response):
        self.status = status
        self.problem = dict(problem)
        self.code: str = str(problem.get("code", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.errors: list[dict[str, Any]] = list(problem.get("errors") or [])
        self.response = response
        super().__init__(f"{status} {self.code}: {self.detail}")


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


class FlowdeskClient:
    def __init__(self, base_url: str = "http://localhost:3000", api_key: str | None = None, *,
                 http: httpx.Client | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.api_key = api_key
        self._owns_http = http is None
        self.http = http or httpx.Client(base_url=base_url, transport=transport,
                                         timeout=timeout)
        self.last_response: httpx.Response | None = None
        self.workspaces = Workspaces(self)
        self.workflows = Workflows(self)
        self.runs = Runs(self)
        self.steps = Steps(self)
        self.approvals = Approvals(self)
        self.out_of_office = OutOfOffice(self)
        self.forms = Forms(self)
        self.credentials = Credentials(self)
        self.files = Files(self)
        self.schedules = Schedules(self)
        self.webhooks = Webhooks(self)
        self.audit = Audit(self)

    def __enter__(self) -> FlowdeskClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None,
                idempotency_key: str | None = None,
                files: Mapping[str, Any] | None = None) -> httpx.Response:
        """Send one request; raise FlowdeskError on a 4xx/5xx answer."""
        sent = dict(headers or {})
        if self.api_key:
            sent.setdefault("Authorization", f"Bearer {self.api_key}")
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        response = self.http.request(method, path, json=json, params=_clean(params or {}),
                                     headers=sent, files=files)
        self.last_response = response
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise FlowdeskError(response.status_code, problem if isinstance(problem, dict)
                                else {"detail": str(problem)}, response)
        return response

    def call(self, model: type[Model], method: str, path: str, **kwargs: Any) -> Model:
        return model.model_validate(self.request(method, path, **kwargs).json())

    def health(self) -> dict[str, Any]:
        """Liveness (`{"status": "ok"}`); needs no key."""
        return dict(self.request("GET", f"{API}/health").json())

    def iterate(self, fetch: Callable[[str | None], Any]) -> Iterator[Any]:
        """Every item of a list, following next_cursor."""
        cursor: str | None = None
        while True:
            page = fetch(cursor)
            yield from page.data
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor


class _Resource:
    def __init__(self, client: FlowdeskClient) -> None:
        self.client = client


class Workspaces(_Resource):
    def list(self) -> WorkspacePage:
        return self.client.call(WorkspacePage, "GET", f"{API}/workspaces")

    def get(self, workspace_id: str) -> WorkspacePublic:
        return self.client.call(WorkspacePublic, "GET", f"{API}/workspaces/{workspace_id}")

    def set_default_error_workflow(self, workspace_id: str,
                                   workflow_id: str | None) -> WorkspacePublic:
        return self.client.call(WorkspacePublic, "PATCH", f"{API}/workspaces/{workspace_id}",
                                json={"default_error_workflow_id": workflow_id})


class Workflows(_Resource):
    def list(self, *, limit: int | None = None, cursor: str | None = None,
             status: str | None = None, search: str | None = None) -> WorkflowPage:
        return self.client.call(WorkflowPage, "GET", f"{API}/workflows", params={
            "limit": limit, "cursor": cursor, "status": status, "search": search})

    def iterate(self, **filters: Any) -> Iterator[Any]:
        return self.client.iterate(lambda cursor: self.list(cursor=cursor, **filters))

    def create(self, title: str, definition: Mapping[str, Any], *, description: str = "",
               idempotency_key: str | None = None) -> WorkflowPublic:
        return self.client.call(WorkflowPublic, "POST", f"{API}/workflows", json={
            "title": title, "description": description, "definition": dict(definition)},
            idempotency_key=idempotency_key)

    def get(self, workflow_id: str) -> WorkflowPublic:
        return self.client.call(WorkflowPublic, "GET", f"{API}/workflows/{workflow_id}")

    def update(self, workflow_id: str, *, version: int | None = None,
               **changes: Any) -> WorkflowPublic:
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return self.client.call(WorkflowPublic, "PATCH", f"{API}/workflows/{workflow_id}",
                                json=changes, headers=headers)

    def delete(self, workflow_id: str) -> None:
        self.client.request("DELETE", f"{API}/workflows/{workflow_id}")

    def validate(self, workflow_id: str,
                 definition: Mapping[str, Any] | None = None) -> ValidationReport:
        body = {"definition": dict(definition)} if definition is not None else {}
        return self.client.call(ValidationReport, "POST",
                                f"{API}/workflows/{workflow_id}/validate", json=body)

    def publish(self, workflow_id: str) -> WorkflowVersionPublic:
        return self.client.call(WorkflowVersionPublic, "POST",
                                f"{API}/workflows/{workflow_id}/publish")

    def versions(self, workflow_id: str, *, limit: int | None = None,
                 cursor: str | None = None) -> WorkflowVersionPage:
        return self.client.call(WorkflowVersionPage, "GET",
                                f"{API}/workflows/{workflow_id}/versions",
                                params={"limit": limit, "cursor": cursor})

    def version(self, workflow_id: str, number: int) -> WorkflowVersionPublic:
        return self.client.call(WorkflowVersionPublic, "GET",
                                f"{API}/workflows/{workflow_id}/versions/{number}")

    def runs(self, workflow_id: str, *, limit: int | None = None, cursor: str | None = None,
             status: str | None = None) -> RunPage:
        return self.client.call(RunPage, "GET", f"{API}/workflows/{workflow_id}/runs",
                                params={"limit": limit, "cursor": cursor, "status": status})


def _run_body(input: Mapping[str, Any] | None, version: int | None) -> dict[str, Any]:
    body: dict[str, Any] = {"input": dict(input or {})}
    if version is not None:
        body["version"] = version
    return body


class Runs(_Resource):
    def trigger(self, workflow_id: str, input: Mapping[str, Any] | None = None, *,
                version: int | None = None, wait: float | None = None,
                idempotency_key: str | None = None) -> RunPublic:
        """Start a run; `wait` (≤ 30 s) answers once it completes, blocks or flags."""
        return self.client.call(RunPublic, "POST", f"{API}/workflows/{workflow_id}/runs",
                                json=_run_body(input, version), params={"wait": wait},
                                idempotency_key=idempotency_key or str(uuid.uuid4()))

    def create(self, workflow_id: str, input: Mapping[str, Any] | None = None, *,
               version: int | None = None, wait: float | None = None,
               idempotency_key: str | None = None) -> RunPublic:
        """`trigger` by POST /runs, the workflow named in the body."""
        body = {"workflow_id": workflow_id, **_run_body(input, version)}
        return self.client.call(RunPublic, "POST", f"{API}/runs", json=body,
                                params={"wait": wait},
                                idempotency_key=idempotency_key or str(uuid.uuid4()))

    def list(self, *, limit: int | None = None, cursor: str | None = None,
             status: str | None = None, workflow_id: str | None = None,
             trigger: str | None = None, search: str | None = None,
             created_after: str | None = None, created_before: str | None = None) -> RunPage:
        return self.client.call(RunPage, "GET", f"{API}/runs", params={
            "limit": limit, "cursor": cursor, "status": status, "workflow_id": workflow_id,
            "trigger": trigger, "search": search, "created_after": created_after,
            "created_before": created_before})

    def iterate(self, **filters: Any) -> Iterator[Any]:
        return self.client.iterate(lambda cursor: self.list(cursor=cursor, **filters))

    def get(self, run_id: str) -> RunPublic:
        return self.client.call(RunPublic, "GET", f"{API}/runs/{run_id}")

    def cancel(self, run_id: str, reason: str | None = None) -> RunPublic:
        return self.client.call(RunPublic, "POST", f"{API}/runs/{run_id}/cancel",
                                json={"reason": reason} if reason else {})

    def rerun_preview(self, run_id: str, from_step: str,
                      version: str = "pinned") -> RerunPreview:
        """What a re-run from `from_step` would run again (and its http steps); no change."""
        return self.client.call(RerunPreview, "GET", f"{API}/runs/{run_id}/rerun-preview",
                                params={"from_step": from_step, "version": version})

    def rerun(self, run_id: str, from_step: str, *, version: str = "pinned",
              idempotency_key: str | None = None) -> RunPublic:
        """A new run from `from_step` (`version`: pinned or latest), earlier outputs kept."""
        return self.client.call(RunPublic, "POST", f"{API}/runs/{run_id}/rerun",
                                json={"from_step": from_step, "version": version},
                                idempotency_key=idempotency_key or str(uuid.uuid4()))


class Steps(_Resource):
    def get(self, step_id: str) -> StepPublic:
        return self.client.call(StepPublic, "GET", f"{API}/steps/{step_id}")

    def retry(self, step_id: str) -> StepPublic:
        return self.client.call(StepPublic, "POST", f"{API}/steps/{step_id}/retry")

    def skip(self, step_id: str) -> StepPublic:
        return self.client.call(StepPublic, "POST", f"{API}/steps/{step_id}/skip")

    def ready(self, step_id: str, payload: Mapping[str, Any] | None = None) -> StepPublic:
        return self.client.call(StepPublic, "POST", f"{API}/steps/{step_id}/ready",
                                json={"payload": dict(payload or {})})


class Approvals(_Resource):
    def list(self, *, limit: int | None = None, cursor: str | None = None,
             status: str | None = None, run_id: str | None = None,
             workflow_id: str | None = None, assignee: str | None = None,
             delegated_to: str | None = None, overdue: bool | None = None) -> ApprovalPage:
        """`assignee`: an email ("mine", for a member) or `role:<name>`; `delegated_to`: an
        email; `overdue`: only pending items past due."""
        return self.client.call(ApprovalPage, "GET", f"{API}/approvals", params={
            "limit": limit, "cursor": cursor, "status": status, "run_id": run_id,
            "workflow_id": workflow_id, "assignee": assignee, "delegated_to": delegated_to,
            "overdue": None if overdue is None else str(overdue).lower()})

    def iterate(self, **filters: Any) -> Iterator[Any]:
        return self.client.iterate(lambda cursor: self.list(cursor=cursor, **filters))

    def get(self, approval_id: str) -> ApprovalPublic:
        return self.client.call(ApprovalPublic, "GET", f"{API}/approvals/{approval_id}")

    def decide(self, approval_id: str, decision: str, comment: str | None = None,
               fields: dict[str, Any] | None = None) -> ApprovalPublic:
        """Vote; the answer shows the approval still pending until its policy is met."""
        body: dict[str, Any] = {"decision": decision, "comment": comment}
        if fields is not None:
            body["fields"] = fields
        return self.client.call(ApprovalPublic, "POST", f"{API}/approvals/{approval_id}/decide",
                                json=body)

    def delegate(self, approval_id: str, *, to: str, from_: str) -> ApprovalPublic:
        """Hand the vote of the assignee `from_` (an email) to the member `to`."""
        return self.client.call(ApprovalPublic, "POST",
                                f"{API}/approvals/{approval_id}/delegate",
                                json={"from": from_, "to": to})

    def reassign(self, approval_id: str, assignees: list[str]) -> ApprovalPublic:
        """Replace a pending approval's assignees (votes already cast stay)."""
        return self.client.call(ApprovalPublic, "POST",
                                f"{API}/approvals/{approval_id}/reassign",
                                json={"assignees": assignees})


class OutOfOffice(_Resource):
    """A member's out-of-office delegate; the key acts for the member named in `user`."""

    def get(self, user: str) -> OutOfOfficePublic:
        """The setting (`delegate_email` None when none is set)."""
        return self.client.call(OutOfOfficePublic, "GET", f"{API}/me/out-of-office",
                                params={"user": user})

    def set(self, user: str, *, delegate_email: str, ends_at: datetime | str,
            starts_at: datetime | str | None = None) -> OutOfOfficePublic:
        """Delegate the member's items by name to `delegate_email` until `ends_at`."""
        def text(value: datetime | str | None) -> str | None:
            return value.isoformat() if isinstance(value, datetime) else value

        return self.client.call(OutOfOfficePublic, "PUT", f"{API}/me/out-of-office", json={
            "user": user, "delegate_email": delegate_email, "starts_at": text(starts_at),
            "ends_at": text(ends_at)})

    def clear(self, user: str) -> None:
        self.client.request("DELETE", f"{API}/me/out-of-office", params={"user": user})


class Forms(_Resource):
    def list(self, *, limit: int | None = None, cursor: str | None = None,
             search: str | None = None) -> FormPage:
        return self.client.call(FormPage, "GET", f"{API}/forms",
                                params={"limit": limit, "cursor": cursor, "search": search})

    def create(self, title: str, fields: builtins.list[Mapping[str, Any]],
               **options: Any) -> FormPublic:
        return self.client.call(FormPublic, "POST", f"{API}/forms", json={
            "title": title, "fields": [dict(f) for f in fields], **options})

    def get(self, form_id: str) -> FormPublic:
        return self.client.call(FormPublic, "GET", f"{API}/forms/{form_id}")

    def update(self, form_id: str, *, version: int | None = None, **changes: Any) -> FormPublic:
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return self.client.call(FormPublic, "PATCH", f"{API}/forms/{form_id}", json=changes,
                                headers=headers)

    def delete(self, form_id: str) -> None:
        self.client.request("DELETE", f"{API}/forms/{form_id}")

    def publish(self, form_id: str) -> FormPublic:
        """Publish the draft as a new version (the public page serves it) and open the form."""
        return self.client.call(FormPublic, "POST", f"{API}/forms/{form_id}/publish")

    def versions(self, form_id: str) -> FormVersionList:
        """The published versions, newest first."""
        return self.client.call(FormVersionList, "GET", f"{API}/forms/{form_id}/versions")

    def submit(self, form_id: str, data: Mapping[str, Any]) -> SubmissionPublic:
        return self.client.call(SubmissionPublic, "POST", f"{API}/forms/{form_id}/submissions",
                                json={"data": dict(data)})

    def submissions(self, form_id: str, *, limit: int | None = None,
                    cursor: str | None = None) -> SubmissionPage:
        return self.client.call(SubmissionPage, "GET", f"{API}/forms/{form_id}/submissions",
                                params={"limit": limit, "cursor": cursor})


class Credentials(_Resource):
    def list(self, *, limit: int | None = None, cursor: str | None = None) -> CredentialPage:
        return self.client.call(CredentialPage, "GET", f"{API}/credentials",
                                params={"limit": limit, "cursor": cursor})

    def create(self, name: str, type: str, value: str,
               config: Mapping[str, str] | None = None) -> CredentialPublic:
        return self.client.call(CredentialPublic, "POST", f"{API}/credentials", json={
            "name": name, "type": type, "value": value, "config": dict(config or {})})

    def get(self, credential_id: str) -> CredentialPublic:
        return self.client.call(CredentialPublic, "GET", f"{API}/credentials/{credential_id}")

    def delete(self, credential_id: str) -> None:
        self.client.request("DELETE", f"{API}/credentials/{credential_id}")


class Files(_Resource):
    def upload(self, name: str, data: bytes | IO[bytes], *,
               idempotency_key: str | None = None) -> FilePublic:
        """Store a file (its type is judged from the bytes); the answer has a download link."""
        return self.client.call(FilePublic, "POST", f"{API}/files",
                                files={"file": (name, data, "application/octet-stream")},
                                idempotency_key=idempotency_key)

    def get(self, file_id: str) -> FilePublic:
        """The metadata with a fresh download link (valid 15 minutes)."""
        return self.client.call(FilePublic, "GET", f"{API}/files/{file_id}")

    def download(self, link: str) -> bytes:
        """The bytes behind a `download_url` (or its bare token), fetched from this client's
        server whatever host the link names."""
        token = parse_qs(urlsplit(link).query).get("token", [link])[0]
        return self.client.request("GET", f"{API}/files/download",
                                   params={"token": token}).content


class Schedules(_Resource):
    def list(self, *, workflow_id: str | None = None, limit: int | None = None,
             cursor: str | None = None) -> SchedulePage:
        return self.client.call(SchedulePage, "GET", f"{API}/schedules", params={
            "workflow_id": workflow_id, "limit": limit, "cursor": cursor})

    def preview(self, cron: str, timezone: str = "UTC") -> Timing:
        return self.client.call(Timing, "GET", f"{API}/schedules/preview",
                                params={"cron": cron, "timezone": timezone})

    def create(self, workflow_id: str, cron: str, **options: Any) -> SchedulePublic:
        """options: name, timezone, input, missed_policy (skip | run_once), enabled."""
        return self.client.call(SchedulePublic, "POST", f"{API}/schedules",
                                json={"workflow_id": workflow_id, "cron": cron, **options})

    def get(self, schedule_id: str) -> SchedulePublic:
        return self.client.call(SchedulePublic, "GET", f"{API}/schedules/{schedule_id}")

    def update(self, schedule_id: str, **changes: Any) -> SchedulePublic:
        return self.client.call(SchedulePublic, "PATCH", f"{API}/schedules/{schedule_id}",
                                json=changes)

    def delete(self, schedule_id: str) -> None:
        self.client.request("DELETE", f"{API}/schedules/{schedule_id}")

    def pause(self, schedule_id: str) -> SchedulePublic:
        return self.client.call(SchedulePublic, "POST", f"{API}/schedules/{schedule_id}/pause")

    def resume(self, schedule_id: str) -> SchedulePublic:
        return self.client.call(SchedulePublic, "POST", f"{API}/schedules/{schedule_id}/resume")

    def run_now(self, schedule_id: str, *, idempotency_key: str | None = None) -> RunPublic:
        return self.client.call(RunPublic, "POST", f"{API}/schedules/{schedule_id}/run-now",
                                idempotency_key=idempotency_key or str(uuid.uuid4()))

    def fires(self, schedule_id: str, *, limit: int | None = None,
              cursor: str | None = None) -> FirePage:
        return self.client.call(FirePage, "GET", f"{API}/schedules/{schedule_id}/fires",
                                params={"limit": limit, "cursor": cursor})


class Webhooks(_Resource):
    """Subscriptions and their delivery log; every call needs the webhooks:write scope."""

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> WebhookPage:
        return self.client.call(WebhookPage, "GET", f"{API}/webhooks",
                                params={"limit": limit, "cursor": cursor})

    def iterate(self) -> Iterator[Any]:
        return self.client.iterate(lambda cursor: self.list(cursor=cursor))

    def create(self, url: str, events: builtins.list[str] | None = None,
               **options: Any) -> WebhookCreated:
        """options: description, secret, payload_format (standard | compat). The answer's
        `secret` is shown only now."""
        body = {"url": url, **options}
        if events is not None:
            body["events"] = events
        return self.client.call(WebhookCreated, "POST", f"{API}/webhooks", json=body)

    def get(self, webhook_id: str) -> WebhookPublic:
        return self.client.call(WebhookPublic, "GET", f"{API}/webhooks/{webhook_id}")

    def update(self, webhook_id: str, *, version: int | None = None,
               **changes: Any) -> WebhookPublic:
        """changes: url, events, active, description."""
        headers = {"If-Match": f'"{version}"'} if version is not None else None
        return self.client.call(WebhookPublic, "PATCH", f"{API}/webhooks/{webhook_id}",
                                json=changes, headers=headers)

    def delete(self, webhook_id: str) -> None:
        self.client.request("DELETE", f"{API}/webhooks/{webhook_id}")

    def rotate_secret(self, webhook_id: str) -> WebhookSecret:
        """A new signing secret (shown only now); the old one signs too for an overlap."""
        return self.client.call(WebhookSecret, "POST",
                                f"{API}/webhooks/{webhook_id}/rotate-secret")

    def deliveries(self, webhook_id: str, *, limit: int | None = None,
                   cursor: str | None = None, status: str | None = None,
                   event_type: str | None = None) -> DeliveryPage:
        return self.client.call(DeliveryPage, "GET", f"{API}/webhooks/{webhook_id}/deliveries",
                                params={"limit": limit, "cursor": cursor, "status": status,
                                        "event_type": event_type})

    def delivery(self, webhook_id: str, delivery_id: str) -> DeliveryPublic:
        return self.client.call(DeliveryPublic, "GET",
                                f"{API}/webhooks/{webhook_id}/deliveries/{delivery_id}")

    def replay(self, webhook_id: str, delivery_id: str) -> DeliveryPublic:
        """Send the event again (same webhook-id) as a new delivery."""
        return self.client.call(
            DeliveryPublic, "POST",
            f"{API}/webhooks/{webhook_id}/deliveries/{delivery_id}/replay")

    def test(self, webhook_id: str) -> DeliveryPublic:
        """Send a webhook.test event to this subscription only."""
        return self.client.call(DeliveryPublic, "POST", f"{API}/webhooks/{webhook_id}/test")


class Audit(_Resource):
    def list(self, *, limit: int | None = None, cursor: str | None = None,
             action: str | None = None, resource_id: str | None = None) -> AuditEventPage:
        return self.client.call(AuditEventPage, "GET", f"{API}/audit-events", params={
            "limit": limit, "cursor": cursor, "action": action, "resource_id": resource_id})
