"""Forms, credentials, files, schedules, webhooks and the audit log."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

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
from app.api.schemas.runs import RunPublic
from app.api.schemas.schedules import FirePage, SchedulePage, SchedulePublic, Timing
from app.api.schemas.webhooks import (
    DeliveryPage,
    DeliveryPublic,
    WebhookCreated,
    WebhookPage,
    WebhookPublic,
    WebhookSecret,
)
from app.client.base import API, _Resource


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
