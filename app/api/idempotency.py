"""`Idempotency-Key` on every POST: the first request claims the key, its 2xx answer is kept
for 24 hours and replayed verbatim (with `Idempotency-Replayed: true`); the same key with
another request is 422, while the first is still running 409. Keys are per workspace.

Only successful answers are kept: an error releases the key, so a corrected retry may reuse it.

Two ways to hold a key. Most POSTs: this middleware claims the key in a transaction of its
own before the route runs and stores the answer in another after it. The writes that carry
the load (a trigger, a decision, a signal, retry and skip) take the `Keyed` dependency
instead: the route's own transaction claims the key first and stores its answer last, so the
key, the change and the answer commit together or not at all (`KeyedWrite`); the middleware
only checks the header and describes the request.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from typing import Annotated, Generic, TypeVar

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import caller_outcome
from app.api.errors import is_api_path, problem_response
from app.api.middleware import state_of
from app.clock import utcnow
from app.db import write_session
from app.errors import FieldError
from app.services import idempotency
from app.services.api_access import KeyGrant
from app.services.idempotency import AlreadyAnswered, KeyedWrite, KeyRequest

log = logging.getLogger("app.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = ("content-type", "location", "etag")
PURGE_EVERY_S = 600.0
KEY_REQUEST_STATE = "idempotency_key"
T = TypeVar("T")


def keyed_write(request: Request) -> KeyedWrite:
    """The route's Idempotency-Key, to be claimed and answered in the route's transaction."""
    return KeyedWrite(state_of(request.scope).get(KEY_REQUEST_STATE))


Keyed = Annotated[KeyedWrite, Depends(keyed_write)]


def keyed_routes(api: FastAPI) -> list[re.Pattern[str]]:
    """The paths of the POST routes that hold their key in their own transaction."""
    return [compile_path(found.path)[0] for found in iter_route_contexts(api.routes)
            if isinstance(found.route, APIRoute) and "POST" in (found.methods or ())
            and any(dep.call is keyed_write for dep in found.route.dependant.dependencies)]


def kept_headers(headers: dict[str, str]) -> dict[str, str]:
    """The headers of an answer that a replay repeats."""
    return {name.lower(): value for name, value in headers.items()
            if name.lower() in KEPT_HEADERS}


def request_hash(scope: Scope, body: bytes) -> str:
    target = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
    return hashlib.sha256(target.encode() + b"\n" + body).hexdigest()


def _claim(caller: KeyGrant, key: str, scope: Scope, digest: str) -> idempotency.ClaimOutcome:
    with write_session() as session:
        return idempotency.claim_key(session, workspace_id=caller.workspace_id, key=key,
                                     method=scope["method"], path=scope["path"],
                                     request_hash=digest, now=utcnow())


def complete(record_id: str, status: int, body: bytes, headers: dict[str, str]) -> None:
    with write_session() as session:
        idempotency.complete_key(session, record_id=record_id, status=status,
                                 body=body.decode("utf-8", errors="replace"), headers=headers)


def _release(record_id: str) -> None:
    with write_session() as session:
        idempotency.release_key(session, record_id=record_id)


def _purge() -> None:
    with write_session() as session:
        removed = idempotency.purge_expired_keys(session, now=utcnow())
    if removed:
        log.info("purged %d expired idempotency records", removed)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *,
                 keyed_in_route: list[re.Pattern[str]] | None = None) -> None:
        self.app = app
        self.keyed_in_route = keyed_in_route or []
        self._next_purge = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        caller = self._applies(scope)
        key = Headers(scope=scope).get(HEADER) if caller else None
        if caller is None or key is None:
            await self.app(scope, receive, send)
            return
        if not KEY_PATTERN.fullmatch(key):
            await problem_response(
                status=422, scope=scope, detail="The Idempotency-Key header is invalid",
                errors=[FieldError(HEADER, "use 1 to 255 visible ASCII characters, such as a "
                                           "UUID")])(scope, receive, send)
            return
        await self._maybe_purge()
        digest = request_hash(scope, state_of(scope).get("body", b""))
        if any(pattern.match(scope["path"]) for pattern in self.keyed_in_route):
            state_of(scope)[KEY_REQUEST_STATE] = KeyRequest(
                workspace_id=caller.workspace_id, key=key, method=scope["method"],
                path=scope["path"], request_hash=digest)
            await self.app(scope, receive, send)
            return
        outcome = await run_in_threadpool(_claim, caller, key, scope, digest)
        if isinstance(outcome, idempotency.Claimed):
            await self._run_and_keep(outcome.record_id, scope, receive, send)
            return
        await refusal(outcome, scope)(scope, receive, send)

    @staticmethod
    def _applies(scope: Scope) -> KeyGrant | None:
        if scope["type"] != "http" or scope["method"] != "POST" or not is_api_path(scope["path"]):
            return None
        caller = caller_outcome(scope)
        if not isinstance(caller, KeyGrant):
            return None  # the route answers 401
        named = Headers(scope=scope).get("x-workspace-id")
        if named is not None and named.strip() != caller.workspace_id:
            return None  # the route answers 404 (X-Workspace-Id of another workspace)
        return caller

    async def _run_and_keep(self, record_id: str, scope: Scope, receive: Receive,
                            send: Send) -> None:
        status = 0
        headers: dict[str, str] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                found = Headers(raw=message.get("headers", []))
                headers.update({name: found[name] for name in KEPT_HEADERS if name in found})
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    if 200 <= status < 300:
                        await run_in_threadpool(complete, record_id, status, b"".join(chunks),
                                                headers)
                    else:
                        await run_in_threadpool(_release, record_id)
                except Exception:
                    log.exception("could not settle idempotency record %s", record_id)

    async def _maybe_purge(self) -> None:
        now = time.monotonic()
        if now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY_S
        try:
            await run_in_threadpool(_purge)
        except Exception:
            log.exception("purging expired idempotency records failed")


def refusal(outcome: idempotency.ClaimOutcome, scope: Scope) -> Response:
    """The answer when a key cannot be claimed: a replay, or a 409/422 problem."""
    if isinstance(outcome, idempotency.Replay):
        headers = {**outcome.headers, REPLAYED_HEADER: "true"}
        return Response(content=outcome.body.encode("utf-8"), status_code=outcome.status,
                        headers=headers)
    if isinstance(outcome, idempotency.Mismatch):
        return problem_response(
            status=422, scope=scope,
            detail="This Idempotency-Key was already used with a different request; use a "
                   "new key for a new request",
            errors=[FieldError(HEADER, "was used with a different request", "reused")])
    return problem_response(
        status=409, scope=scope, headers={"Retry-After": "1"},
        detail="A request with this Idempotency-Key is still being processed; retry "
               "shortly to receive its response")


def install_keyed_answers(api: FastAPI) -> None:
    """A keyed route whose key was used before answers as the middleware would have."""

    async def on_already_answered(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AlreadyAnswered)
        return refusal(exc.outcome, request.scope)

    api.add_exception_handler(AlreadyAnswered, on_already_answered)



class KeptAnswer(Generic[T]):
    """The JSON answer of a keyed write: shaped from what the write wrote, inside its
    transaction, and kept there with the request's key. `claim(session)` first; then pass
    the answer as the use case's before-commit hook; `response()` after the commit."""

    def __init__(self, keyed: KeyedWrite, shape: Callable[[T], BaseModel], *,
                 status: int = 200,
                 headers: Callable[[T], dict[str, str]] | None = None) -> None:
        self.keyed = keyed
        self.shape = shape
        self.status = status
        self.headers_of = headers
        self.body = ""
        self.headers: dict[str, str] = {}

    def claim(self, session: Session) -> KeptAnswer[T]:
        """Claim the key as the transaction's first write (AlreadyAnswered if it was used)."""
        self.keyed.claim(session, now=utcnow())
        return self

    def __call__(self, session: Session, written: T) -> None:
        self.body = self.shape(written).model_dump_json()
        self.headers = self.headers_of(written) if self.headers_of else {}
        self.keyed.keep(session, status=self.status, body=self.body, headers=self.stored())

    def stored(self) -> dict[str, str]:
        """The headers a replay repeats."""
        return kept_headers({"content-type": "application/json", **self.headers})

    def replace(self, model: BaseModel) -> None:
        """Answer `model` instead and keep it with the key, in a transaction of its own (a
        run-and-wait answers the run as it is after the wait; a retry replays that)."""
        self.body = model.model_dump_json()
        if self.keyed.record_id is not None:
            complete(self.keyed.record_id, self.status, self.body.encode(), self.stored())

    def response(self) -> Response:
        return Response(content=self.body, status_code=self.status,
                        media_type="application/json", headers=self.headers)
