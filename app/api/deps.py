"""Route dependencies: the authenticated caller with its scopes, database sessions, If-Match.

The key behind a request is resolved once, by `CallerMiddleware`, before rate limiting and
idempotency need it; `require(...)` then enforces it per route: 401 without a live key, 403
for an IP outside the key's allow-list or a missing scope (the problem names it), 404 for an
X-Workspace-Id naming another workspace (seed 001's header; the key's own is fine).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import is_api_path
from app.api.middleware import state_of
from app.db import read_session_unopened, write_session_unopened
from app.errors import DomainError, NotFound, Unauthorized
from app.models import Actor
from app.services.api_access import KeyGrant, grant_of_secret, secret_of

CALLER_STATE = "caller"
MISSING_KEY = ("An API key is required: send 'Authorization: Bearer <key>' or "
               "'X-Api-Key: <key>'")

BEARER = HTTPBearer(auto_error=False, scheme_name="bearer",
                    description="`Authorization: Bearer fdk_…` with an API key.")
API_KEY_HEADER = APIKeyHeader(name="X-Api-Key", auto_error=False, scheme_name="apiKey",
                              description="The same API key in the `X-Api-Key` header.")


def resolve_caller(headers: Headers) -> KeyGrant | DomainError:
    """Blocking (database): the caller, or the error that refuses the request."""
    try:
        secret = secret_of(headers)
        if secret is None:
            return Unauthorized(MISSING_KEY)
        return grant_of_secret(secret)
    except DomainError as exc:
        return exc


class CallerMiddleware:
    """Resolve the API key of each /api/ request once and keep it in the request state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            headers = Headers(scope=scope)
            if headers.get("authorization") or headers.get("x-api-key"):
                outcome = await run_in_threadpool(resolve_caller, headers)
            else:
                outcome = Unauthorized(MISSING_KEY)
            state_of(scope)[CALLER_STATE] = outcome
        await self.app(scope, receive, send)


def caller_outcome(scope: Scope) -> KeyGrant | DomainError | None:
    return state_of(scope).get(CALLER_STATE)


def _authorize(request: Request, scopes: tuple[str, ...]) -> Actor:
    outcome = caller_outcome(request.scope)
    if isinstance(outcome, DomainError):
        raise outcome
    caller = outcome
    caller.check_address(request.client.host if request.client else None)
    named = request.headers.get("x-workspace-id")
    if named is not None and named.strip() != caller.workspace_id:
        # 404, as for anything of another workspace: whether it exists is not told.
        raise NotFound(f"There is no workspace '{named.strip()[:80]}' for this API key; omit "
                       "X-Workspace-Id or send the key's own workspace id (GET "
                       "/api/v1/workspaces)", extra={"reason": "workspace_mismatch"})
    caller.check_scopes(scopes)
    return caller.actor(state_of(request.scope).get("request_id"))


def require(*scopes: str) -> Callable[..., Actor]:
    """A dependency admitting keys that hold every scope given (none: any live key)."""

    # async: it does no I/O once CallerMiddleware has resolved the key, and a sync dependency
    # would cost every request a hop to the thread pool.
    async def dependency(
        request: Request,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
        _api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    ) -> Actor:
        if caller_outcome(request.scope) is None:  # the API used without create_api
            state_of(request.scope)[CALLER_STATE] = await run_in_threadpool(
                resolve_caller, request.headers)
        return _authorize(request, scopes)

    dependency.required_scopes = scopes  # type: ignore[attr-defined]  # read by openapi.py
    return dependency


def required_scopes(call: Any) -> tuple[str, ...] | None:
    return getattr(call, "required_scopes", None)


# A route's session opens on the event loop (no I/O: the first query takes a connection, in
# the route's thread), and the route's own thread closes it when the route returns (see
# app/api/routing.py), so the close here finds nothing to do. Coroutine routes do not take
# a session: their queries would block the event loop.
async def _read_db() -> AsyncIterator[Session]:
    session = read_session_unopened()
    try:
        yield session
    finally:
        session.close()


async def _write_db() -> AsyncIterator[Session]:
    session = write_session_unopened()
    try:
        yield session
    finally:
        session.close()


ReadSession = Annotated[Session, Depends(_read_db)]
WriteSession = Annotated[Session, Depends(_write_db)]

IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"?[0-9]{1,9}"?)\s*$'


async def if_match_version(
    if_match: Annotated[str | None, Header(
        alias="If-Match", pattern=IF_MATCH_PATTERN,
        description="The version you read (the ETag). A stale version is refused with 409 "
                    "instead of overwriting a change you have not seen.",
        examples=['"3"'])] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    return int(if_match.strip().removeprefix("W/").strip('"'))


IfMatch = Annotated[int | None, Depends(if_match_version)]


def etag(version: int) -> str:
    return f'"{version}"'
