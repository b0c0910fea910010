"""The OpenAPI 3.1 document: problem responses on every operation, the rate-limit and
request-id headers, `x-required-scopes`, security schemes, and links for stateful testing."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts

from app.api.deps import required_scopes
from app.api.errors import PROBLEM_MEDIA_TYPE
from app.api.schemas.common import Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
DESCRIPTIONS = {
    400: "Malformed request (invalid JSON, a NUL character, a bad header).",
    401: "Missing, malformed, unknown, revoked or expired API key.",
    403: "The key lacks a scope (named in `missing_scope`) or may not be used from this IP.",
    404: "Not found (or in another workspace, or X-Workspace-Id names another workspace).",
    409: "Conflict: a stale If-Match version, a state that forbids the change, or the same "
         "Idempotency-Key still in flight.",
    413: "The request body is larger than the server's limit.",
    422: "Validation failed; `errors[]` names each field.",
    429: "Rate limited (`Retry-After`), or the workspace's cap on concurrent runs "
         "(code CONCURRENCY_LIMITED).",
    500: "Unexpected server error (no details are exposed; quote the request id).",
    503: "The database is unavailable; retry shortly.",
}
REUSED_KEY = (" Also when the `Idempotency-Key` was used before with a different request "
              "(another path or body): `errors[0]` is `{\"field\": \"Idempotency-Key\", "
              "\"code\": \"reused\"}`; send a new key for a new request.")
COMMON_STATUSES = (400, 401, 403, 422, 429, 500, 503)
RATE_HEADERS = {
    "X-RateLimit-Limit": ("integer", "Requests allowed per minute in this bucket."),
    "X-RateLimit-Remaining": ("integer", "Requests left in the current window."),
    "X-RateLimit-Reset": ("integer", "Unix time (seconds) when the window resets."),
    "RateLimit-Policy": ("string", 'IETF draft policy, e.g. `"read";q=600;w=60`.'),
    "RateLimit": ("string", 'IETF draft state, e.g. `"read";r=599;t=42`.'),
}
API_DESCRIPTION = """\
Drive Flowdesk from other systems: workflows, runs, approvals, forms, credentials and the
audit log.

**Authentication**: `Authorization: Bearer <key>` or `X-Api-Key: <key>` with a key minted by
`python -m app.cli mint-api-key` (or the settings page). Keys belong to one workspace and carry
scopes; each operation lists the scopes it needs in `x-required-scopes`. An optional
`X-Workspace-Id` header must name the key's own workspace (else 404).

**Errors** are `application/problem+json` (RFC 9457) with `type`, `title`, `status`, `detail`,
`code`, `errors[]` and `request_id` (also in the `X-Request-Id` header).

**Lists** take `limit` (1-100, default 25) and an opaque `cursor`, and answer
`{"data": [...], "next_cursor": "...", "has_more": true}`, newest first. Seed 001's
spellings work too: `per_page`, `next_page_token` (in the answer, absent on the last page, and
as a parameter), offset pages with `page`, and structured filters
(`[{"attribute", "operator", "values"}]`) as the JSON `filters` parameter or the body of
`POST …/search`.

**Writes**: every POST honours `Idempotency-Key` (24 h; a replay answers the original response
with `Idempotency-Replayed: true`; the same key with another body is 422, in flight 409).
PATCH takes `If-Match: <version>` (409 when stale) and answers with an `ETag`.

**Limits**: per key, a read bucket (GET) and a write bucket (others) per minute; every
response carries `X-RateLimit-*` and `RateLimit`/`RateLimit-Policy`; 429 has `Retry-After`.

**Compatibility**: `/api/public/*` (seed 000) and `/api/workflow` (seed 004) answer in those
products' own shapes; see docs/api.md.
"""
TAGS = [
    {"name": "workspaces", "description": "The key's own workspace."},
    {"name": "workflows", "description": "Definitions, drafts, versions and validation."},
    {"name": "runs", "description": "Trigger, follow, cancel runs; each with its steps."},
    {"name": "steps", "description": "Retry or skip a failed step; signal a waiting one."},
    {"name": "approvals", "description": "Pending decisions and their outcome."},
    {"name": "schedules", "description": "Cron schedules of a workflow's runs: pause, resume, "
                                          "run now, and what each due time did."},
    {"name": "forms", "description": "Forms and their submissions."},
    {"name": "files", "description": "Uploads (type sniffed, SHA-256) and signed, expiring "
                                      "download links."},
    {"name": "credentials", "description": "Secrets for http steps (write-only values)."},
    {"name": "audit", "description": "Who did what, when."},
    {"name": "webhooks", "description": "Signed event deliveries: subscriptions, the delivery "
                                         "log, replay."},
    {"name": "compat: seed 000", "description": "`/api/public` run-centric API."},
    {"name": "compat: seed 004", "description": "`/api/workflow` flow API, numeric ids."},
    {"name": "meta", "description": "Liveness."},
]


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route-level `responses=` for the problems an operation adds to the common ones."""
    return {status: {"description": DESCRIPTIONS.get(status, "Error")} for status in statuses}


def _header_components() -> dict[str, Any]:
    headers: dict[str, Any] = {
        name: {"description": text, "required": True, "schema": {"type": kind}}
        for name, (kind, text) in RATE_HEADERS.items()
    }
    headers["X-Request-Id"] = {"description": "The request's id (yours when you sent a sane "
                                              "one).", "required": True,
                               "schema": {"type": "string"}}
    headers["Retry-After"] = {"description": "Seconds to wait before retrying.",
                              "required": True, "schema": {"type": "integer"}}
    headers["ETag"] = {"description": "The resource's version, quoted; send it back as "
                                      "If-Match.", "required": True,
                       "schema": {"type": "string"}}
    headers["Location"] = {"description": "The created resource.", "required": True,
                           "schema": {"type": "string"}}
    headers["Idempotency-Replayed"] = {
        "description": "`true` when this is the stored answer to an earlier request with the "
                       "same Idempotency-Key.", "required": False,
        "schema": {"type": "string", "enum": ["true"]}}
    return headers


def _decorate_operation(method: str, operation: dict[str, Any],
                        scopes: tuple[str, ...] | None, extra_headers: dict[str, list[str]]
                        ) -> None:
    responses = operation.setdefault("responses", {})
    statuses = list(COMMON_STATUSES) if scopes is not None else [400, 422, 429, 500, 503]
    if method in ("post", "patch", "put"):
        statuses += [409, 413]
    for status in statuses:
        responses.setdefault(str(status), {})
    for code, response in responses.items():
        if code.startswith(("4", "5")):
            if not response.get("description") or code == "422":
                response["description"] = DESCRIPTIONS.get(int(code), "Error")
            if code == "422" and method == "post":
                response["description"] += REUSED_KEY
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
        headers = response.setdefault("headers", {})
        for name in (*RATE_HEADERS, "X-Request-Id"):
            headers[name] = {"$ref": f"#/components/headers/{name}"}
        if code in ("429", "503"):
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        for name in extra_headers.get(code, []):
            headers[name] = {"$ref": f"#/components/headers/{name}"}
        if method == "post" and code.startswith("2"):
            headers["Idempotency-Replayed"] = {"$ref": "#/components/headers/Idempotency-Replayed"}
    if scopes is not None:
        operation["x-required-scopes"] = list(scopes)
        listed = ", ".join(f"`{s}`" for s in scopes) or "none (any valid key)"
        operation["description"] = (operation.get("description", "").rstrip()
                                    + f"\n\nRequired scopes: {listed}.").strip()
    if method == "post":
        parameters = operation.setdefault("parameters", [])
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})


def _route_scopes(route: Any) -> tuple[str, ...] | None:
    dependant = getattr(route, "dependant", None)
    pending = list(dependant.dependencies) if dependant is not None else []
    while pending:
        dependant = pending.pop()
        found = required_scopes(dependant.call)
        if found is not None:
            return found
        pending.extend(dependant.dependencies)
    return None


def build_openapi(api: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=api.title, version=api.version, openapi_version="3.1.0",
                         description=API_DESCRIPTION, routes=api.routes, tags=TAGS)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("Problem", Problem.model_json_schema(
        ref_template="#/components/schemas/{model}"))
    schemas.update({name: value for name, value in Problem.model_json_schema(
        ref_template="#/components/schemas/{model}").get("$defs", {}).items()})
    schemas["Problem"].pop("$defs", None)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["headers"] = _header_components()
    components.setdefault("parameters", {})["IdempotencyKey"] = {
        "name": "Idempotency-Key", "in": "header", "required": False,
        "description": "Makes a retry safe: the same key and body within 24 h answers the "
                       "original response.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                   "pattern": "^[\\x21-\\x7e]+$"},
        "example": "6f1c1f9e-2d1a-4a5e-9a8f-2b1f7f6f2a10"}
    by_path = {(route.path, method.lower()): route for route in iter_route_contexts(api.routes)
               if route.path and route.methods for method in route.methods}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            route = by_path.get((path, method))
            scopes = _route_scopes(route) if route else None
            extra = (getattr(route, "openapi_extra", None) or {}).get("x-response-headers", {})
            operation.pop("x-response-headers", None)
            _decorate_operation(method, operation, scopes, extra)
    return schema


def install_openapi(api: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = build_openapi(api)
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
