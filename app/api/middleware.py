"""ASGI layers around the API's routes: request ids, body guards (size, JSON) and the last
line of defence that turns any unhandled exception into a problem without a trace.

They act on /api/ paths only; Reflex's own routes (mounted inside the same app) pass through.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from sqlalchemy.exc import OperationalError
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import domain_problem, internal_problem, is_api_path, problem_response
from app.errors import DomainError, Unavailable
from app.models import new_id

log = logging.getLogger("app.api")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,80}")
DB_RETRY_AFTER_S = 5
METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Headers a layer wants on the answer (the rate limits), set with the request id in one pass.
RESPONSE_HEADERS_STATE = "response_headers"


def state_of(scope: Scope) -> dict[str, Any]:
    return scope.setdefault("state", {})


def _with_headers(message: Message, headers: dict[str, str]) -> None:
    """Set `headers` on a response start, replacing any of the same name."""
    names = {name.lower().encode("latin-1") for name in headers}
    raw = [pair for pair in message.get("headers", ()) if pair[0].lower() not in names]
    raw.extend((name.lower().encode("latin-1"), value.encode("latin-1"))
               for name, value in headers.items())
    message["headers"] = raw


class RequestContextMiddleware:
    """Give every API request an id (the caller's X-Request-Id when it is sane), echo it on
    the response with the headers the layers below asked for (the rate limits), and turn an
    exception from anything below into a problem (500; 503 when the database is unreachable
    or stays locked) unless the answer had started. The idempotency layer releases its key
    on the way up, so one catch here serves every layer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = given if _REQUEST_ID_RE.fullmatch(given) else new_id("req")
        state = state_of(scope)
        state["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _with_headers(message, {REQUEST_ID_HEADER: request_id,
                                        **state.get(RESPONSE_HEADERS_STATE, {})})
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:
                log.exception("request %s failed after responding", request_id)
                raise
            await problem_for(exc, scope)(scope, receive, send_with_id)


def problem_for(exc: Exception, scope: Scope) -> Response:
    """The problem answer for an exception that escaped a route or a middleware: 503 when the
    database is unreachable or stays locked, the domain error's own status, else 500."""
    if isinstance(exc, OperationalError):
        log.warning("database unavailable during %s: %s", scope["path"],
                    str(exc).splitlines()[0][:300])
        unavailable = Unavailable("The database is unavailable or busy; retry shortly",
                                  extra={"retry_after": DB_RETRY_AFTER_S})
        return domain_problem(unavailable, scope)
    if isinstance(exc, DomainError):
        return domain_problem(exc, scope)
    log.exception("unhandled error in %s %s", scope["method"], scope["path"])
    return internal_problem(scope)


# ---------------------------------------------------------------- body guard


def _bad_string(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate"
    return None


def _first_bad_string(document: Any) -> str | None:
    """Where a JSON document holds a string the databases cannot store (iterative walk)."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = _bad_string(value)
            if problem:
                return f"{path or 'body'} {problem}"
        elif isinstance(value, dict):
            for key, item in value.items():
                problem = _bad_string(key)
                if problem:
                    return f"a property name in {path or 'body'} {problem}"
                stack.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is out of range")
    return number


def json_problem(body: bytes) -> str | None:
    """Why a JSON body is unacceptable, or None. Stricter than json.loads: no NaN/Infinity,
    no overflowing numbers, no NUL characters or lone surrogates in strings."""
    try:
        document = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        return "The request body is nested too deeply"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"The request body is not valid JSON: {exc}"
    problem = _first_bad_string(document)
    return f"The request body is not acceptable: {problem}" if problem else None


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                            and media.endswith("+json"))


def _has_nul(scope: Scope) -> bool:
    query = scope.get("query_string") or b""
    raw = query + (scope.get("raw_path") or b"")
    return b"%00" in raw or "\x00" in scope["path"] or "\x00" in unquote(query.decode("latin-1"))


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it grows past `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _too_large(scope: Scope, limit: int) -> Response:
    return problem_response(status=413, scope=scope, extra={"max_body_bytes": limit},
                            detail=f"The request body is larger than the limit of {limit} bytes")


class BodyGuardMiddleware:
    """Refuse what the routes should never see: NUL bytes in the URL (400), bodies over the
    size cap (413, by Content-Length or by counting), malformed JSON (400). The body is read
    once and kept in the request state for the idempotency layer. `max_body_bytes` gives the
    cap of a path (uploads have their own)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: Callable[[str], int]) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await problem_response(status=400, scope=scope,
                                   detail="The URL contains a NUL character")(scope, receive, send)
            return
        if scope["method"] in METHODS_WITH_BODY:
            problem = await self._take_body(scope, receive)
            if problem is not None:
                await problem(scope, receive, send)
                return
            receive = _replay(state_of(scope)["body"], receive)
        await self.app(scope, receive, send)

    async def _take_body(self, scope: Scope, receive: Receive) -> Any:
        limit = self.max_body_bytes(scope["path"])
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return problem_response(status=400, scope=scope,
                                        detail="The Content-Length header is not a number")
            if int(declared) > limit:
                return _too_large(scope, limit)
        body = await _read_body(receive, limit)
        if body is None:
            return _too_large(scope, limit)
        state_of(scope)["body"] = body
        if body and _is_json(headers.get("content-type")):
            problem = json_problem(body)
            if problem:
                return problem_response(status=400, scope=scope, detail=problem)
        return None
