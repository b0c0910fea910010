"""Every failure as application/problem+json (RFC 9457): domain errors, request validation,
HTTP errors and anything unhandled, mapped in this one place (on seed 002's /v1 paths, the
same problem in that product's `{"success": false, "error": …}` envelope)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import DomainError, FieldError

log = logging.getLogger("app.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:flowdesk:problem:"
# Seed 004's clients read `{"error": "..."}`: problems on its paths carry that member too.
SEED004_PREFIX = "/api/workflow"
# Seed 002's API lives at /v1 and answers errors in its own envelope (see seed002_error).
SEED002_PREFIX = "/v1"
# Our codes that seed 002's list lacks, as the nearest of its own (the original stays in
# `details.problem_code`).
_SEED002_CODE = {"BAD_REQUEST": "VALIDATION_ERROR", "PAYLOAD_TOO_LARGE": "VALIDATION_ERROR",
                 "UNSUPPORTED_MEDIA_TYPE": "VALIDATION_ERROR",
                 "NOT_ACCEPTABLE": "VALIDATION_ERROR", "METHOD_NOT_ALLOWED": "NOT_FOUND",
                 "CONCURRENCY_LIMITED": "RATE_LIMITED", "UNAVAILABLE": "INTERNAL_ERROR"}

_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "Bad request"),
    401: ("UNAUTHORIZED", "Unauthorized"),
    403: ("FORBIDDEN", "Forbidden"),
    404: ("NOT_FOUND", "Not found"),
    405: ("METHOD_NOT_ALLOWED", "Method not allowed"),
    406: ("NOT_ACCEPTABLE", "Not acceptable"),
    409: ("CONFLICT", "Conflict"),
    413: ("PAYLOAD_TOO_LARGE", "Payload too large"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "Unsupported media type"),
    422: ("VALIDATION_ERROR", "Validation failed"),
    429: ("RATE_LIMITED", "Too many requests"),
    500: ("INTERNAL_ERROR", "Internal error"),
    503: ("UNAVAILABLE", "Service unavailable"),
}
_CODE_OF_PYDANTIC_TYPE = {"missing": "required", "extra_forbidden": "unknown_field"}


def is_api_path(path: str) -> bool:
    """The API's paths; everything else belongs to Reflex and is left untouched."""
    return path == "/api" or path.startswith("/api/") or is_seed002_path(path)


def is_seed002_path(path: str) -> bool:
    return path == SEED002_PREFIX or path.startswith(SEED002_PREFIX + "/")


def seed002_error(problem: Mapping[str, Any]) -> dict[str, Any]:
    """A problem document in seed 002's envelope: `{"success": false, "error": {"code",
    "message", "details"}}`; details keep everything else the problem said."""
    code = str(problem.get("code", "INTERNAL_ERROR"))
    details = {k: v for k, v in problem.items() if k not in ("type", "title", "detail", "code")}
    if code in _SEED002_CODE:
        details["problem_code"] = code
    return {"success": False, "error": {"code": _SEED002_CODE.get(code, code),
                                        "message": problem.get("detail", ""),
                                        "details": details}}


def request_id_of(scope: Mapping[str, Any]) -> str | None:
    state = scope.get("state") or {}
    return state.get("request_id") if isinstance(state, Mapping) else None


def problem_body(*, status: int, detail: str, code: str | None = None, title: str | None = None,
                 errors: Iterable[FieldError] = (), request_id: str | None = None,
                 path: str = "", extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    default_code, default_title = _BY_STATUS.get(status, (f"HTTP_{status}", "Error"))
    code = code or default_code
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_PREFIX + code.lower().replace("_", "-"),
        "title": title or default_title,
        "status": status,
        "detail": detail or title or default_title,
        "code": code,
        "errors": [e.as_dict() for e in errors],
        "request_id": request_id,
    }
    for name, value in (extra or {}).items():
        body.setdefault(name, value)
    if path == SEED004_PREFIX or path.startswith(SEED004_PREFIX + "/"):
        body["error"] = body["detail"]
    return body


def problem_response(*, status: int, detail: str, scope: Mapping[str, Any],
                     code: str | None = None, title: str | None = None,
                     errors: Iterable[FieldError] = (), extra: Mapping[str, Any] | None = None,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = problem_body(status=status, detail=detail, code=code, title=title, errors=errors,
                        request_id=request_id_of(scope), path=scope.get("path", ""), extra=extra)
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", 'Bearer realm="flowdesk"')
    if is_seed002_path(scope.get("path", "")):
        return JSONResponse(seed002_error(body), status_code=status, headers=all_headers)
    return JSONResponse(body, status_code=status, headers=all_headers,
                        media_type=PROBLEM_MEDIA_TYPE)


def domain_problem(exc: DomainError, scope: Mapping[str, Any]) -> JSONResponse:
    headers: dict[str, str] = {}
    retry_after = exc.extra.get("retry_after")
    if exc.status in (429, 503):
        headers["Retry-After"] = str(int(retry_after) if retry_after else 1)
    return problem_response(status=exc.status, detail=exc.detail, scope=scope, code=exc.code,
                            title=exc.title, errors=exc.errors, extra=exc.extra,
                            headers=headers)


def _field_name(loc: Sequence[int | str]) -> str:
    """("body", "steps", 0, "name") → "steps[0].name"; ("query", "limit") → "limit"."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header",
                                                "cookie") else list(loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name = f"{name}.{part}" if name else str(part)
    return name or (str(loc[0]) if loc else "body")


def validation_problem(exc: RequestValidationError, scope: Mapping[str, Any]) -> JSONResponse:
    raw = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in raw):
        return problem_response(status=400, scope=scope,
                                detail="The request body is not valid JSON")
    errors = [
        FieldError(_field_name(err.get("loc", ())),
                   str(err.get("msg", "is invalid")).removeprefix("Value error, "),
                   _CODE_OF_PYDANTIC_TYPE.get(str(err.get("type")), "invalid"))
        for err in raw
    ]
    listed = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return problem_response(status=422, scope=scope, errors=errors,
                            detail=f"The request is invalid ({listed})" if listed else
                            "The request is invalid")


def http_problem(exc: StarletteHTTPException, scope: Mapping[str, Any]) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else _BY_STATUS.get(
        exc.status_code, ("", "Error"))[1]
    return problem_response(status=exc.status_code, detail=detail, scope=scope,
                            headers=exc.headers)


def internal_problem(scope: Mapping[str, Any]) -> JSONResponse:
    return problem_response(
        status=500, scope=scope,
        detail="Something went wrong on our side; it was logged. Quote the request id "
               "when you report it.")


def install_error_handlers(api: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        if exc.status >= 500:
            log.warning("request %s failed: %s", request_id_of(request.scope), exc)
        return domain_problem(exc, request.scope)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return validation_problem(exc, request.scope)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not is_api_path(request.url.path):  # Reflex's own routes keep Starlette's answer
            return await http_exception_handler(request, exc)
        return http_problem(exc, request.scope)

    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(RequestValidationError, on_validation_error)
    api.add_exception_handler(StarletteHTTPException, on_http_error)
