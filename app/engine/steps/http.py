"""The `http` step: a templated httpx request with a credential and an Idempotency-Key."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import httpx

from app.engine.definition import next_of
from app.engine.fields import file_id_of
from app.engine.steps.base import Complete, Fail, Outcome, ResolvedCredential, StepContext
from app.engine.templating import TemplateFailure, render_value
from app.webhooks.address_guard import AddressRefused

MAX_BODY_KEPT = 64 * 1024
REDACTED = "[redacted]"
RETRYABLE_STATUS = {408, 425, 429}


def credential_headers(credential: ResolvedCredential) -> dict[str, str]:
    """The headers that carry a credential; their values are never recorded."""
    if credential.type in ("bearer", "api_key"):
        return {"Authorization": f"Bearer {credential.value}"}
    if credential.type == "basic":
        token = base64.b64encode(credential.value.encode()).decode()
        return {"Authorization": f"Basic {token}"}
    header = str(credential.config.get("header") or "X-Api-Key")
    return {header: credential.value}


def _response_body(response: httpx.Response) -> Any:
    text = response.text[:MAX_BODY_KEPT]
    if "json" in response.headers.get("content-type", ""):
        try:
            return response.json()
        except ValueError:
            return text
    return text


def _multipart(step: Any, ctx: StepContext, context: dict[str, Any], body: Any
               ) -> tuple[dict[str, Any], dict[str, Any]] | Fail:
    """(httpx request arguments, what the timeline records) for a step that sends files:
    each part's file by id, read from the run's workspace; `body` (an object) as text parts."""
    if body is not None and not isinstance(body, dict):
        return Fail("an http step that sends files takes an object as its body (its text "
                    "parts)", retryable=False)
    if ctx.read_file is None:
        return Fail("this executor cannot read files", retryable=False)
    parts: dict[str, tuple[str, bytes, str]] = {}
    sent: dict[str, Any] = {}
    for part, source in step.files.items():
        try:
            value = render_value(source, context)
        except TemplateFailure as exc:
            return Fail(str(exc), retryable=False)
        file_id = file_id_of(value)
        found = ctx.read_file(file_id) if file_id else None
        if found is None:
            what = f"'{file_id}'" if file_id else f"'{source}' (no file id in it)"
            return Fail(f"files.{part}: file {what} was not found", retryable=False)
        parts[part] = (found.name, found.data, found.content_type)
        sent[part] = {"id": file_id, "name": found.name, "size": len(found.data),
                      "content_type": found.content_type}
    fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (body or {}).items()}
    return {"files": parts, "data": fields or None}, sent


def execute(step: Any, ctx: StepContext) -> Outcome:
    if ctx.http is None:
        return Fail("no HTTP client is configured for this executor", retryable=False)
    context = ctx.template_context()
    try:
        url = str(render_value(step.url, context))
        headers = {k: str(v) for k, v in render_value(dict(step.headers), context).items()}
        query = render_value(dict(step.query), context)
        body = render_value(step.body, context)
    except TemplateFailure as exc:
        return Fail(str(exc), retryable=False)
    recorded = {"method": step.method, "url": url, "headers": dict(headers), "body": body}
    if step.credential:
        credential = ctx.find_credential(step.credential)
        if credential is None:
            return Fail(f"credential '{step.credential}' was not found", retryable=False,
                        recorded_input=recorded)
        secret_headers = credential_headers(credential)
        headers.update(secret_headers)
        recorded["headers"].update({name: REDACTED for name in secret_headers})
        recorded["credential"] = credential.id
    headers.setdefault("Idempotency-Key", ctx.idempotency_key)
    request: dict[str, Any] = {"headers": headers, "params": query or None}
    if step.files and step.method not in ("GET", "HEAD"):
        multipart = _multipart(step, ctx, context, body)
        if isinstance(multipart, Fail):
            return replace(multipart, recorded_input=recorded)
        extra, recorded["files"] = multipart
        request.update(extra)
    elif body is not None and step.method not in ("GET", "HEAD"):
        if isinstance(body, str):
            request["content"] = body.encode()
        else:
            request["content"] = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
    try:
        response = ctx.http.request(step.method, url, timeout=step.timeout_s, **request)
    except httpx.TimeoutException:
        return Fail(f"timed out after {step.timeout_s:g} s: {step.method} {url}",
                    recorded_input=recorded)
    except AddressRefused as exc:
        return Fail(f"request not sent: {exc}", retryable=False, recorded_input=recorded)
    except httpx.HTTPError as exc:
        return Fail(f"request failed: {type(exc).__name__}: {exc}", recorded_input=recorded)
    result = {
        "status": response.status_code,
        "headers": {"content-type": response.headers.get("content-type", "")},
        "body": _response_body(response),
    }
    if 200 <= response.status_code < 300:
        return Complete(result=result, next_step=next_of(step),
                        recorded_input=recorded)
    retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUS
    excerpt = response.text[:300]
    return Fail(
        f"HTTP {response.status_code} from {step.method} {url}: {excerpt}",
        retryable=retryable,
        recorded_input=recorded,
        retry_after_s=_retry_after(response),
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
