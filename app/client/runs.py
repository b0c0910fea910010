"""Workspaces, workflows, runs, steps, approvals and out of office."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from app.api.schemas.approvals import ApprovalPage, ApprovalPublic
from app.api.schemas.out_of_office import OutOfOfficePublic
from app.api.schemas.reruns import RerunPreview
from app.api.schemas.runs import RunPage, RunPublic, StepPublic
from app.api.schemas.workflows import (
    ValidationReport,
    WorkflowPage,
    WorkflowPublic,
    WorkflowVersionPage,
    WorkflowVersionPublic,
)
from app.api.schemas.workspaces import WorkspacePage, WorkspacePublic
from app.client.base import API, _Resource


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
