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

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from app.client.admin import Audit, Credentials, Files, Forms, Schedules, Webhooks
from app.client.base import API, DEFAULT_TIMEOUT_S, FlowdeskError, Model, _clean
from app.client.runs import Approvals, OutOfOffice, Runs, Steps, Workflows, Workspaces

__all__ = ["API", "DEFAULT_TIMEOUT_S", "FlowdeskClient", "FlowdeskError"]


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
