"""`Idempotency-Key` on every POST: the first request claims the key, its 2xx answer is kept
for 24 hours and replayed verbatim (with `Idempotency-Replayed: true`); the same key with
another request is 422, while the first is still running 409. Keys are per workspace.

Only successful answers are kept: an error releases the key, so a corrected retry may reuse it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import caller_outcome
from app.api.errors import is_api_path, problem_response
from app.api.middleware import state_of
from app.clock import utcnow
from app.db import write_session
from app.errors import FieldError
from app.services import idempotency
from app.services.api_access import Caller

log = logging.getLogger("app.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotency-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_HEADERS = ("content-type", "location", "etag")
PURGE_EVERY_S = 600.0


def request_hash(scope: Scope, body: bytes) -> str:
    target = f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
    return hashlib.sha256(target.encode() + b"\n" + body).hexdigest()


def _claim(caller: Caller, key: str, scope: Scope, digest: str) -> idempotency.ClaimOutcome:
    with write_session() as session:
        return idempotency.claim_key(session, workspace_id=caller.workspace_id, key=key,
                                     method=scope["method"], path=scope["path"],
                                     request_hash=digest, now=utcnow())


def _complete(record_id: str, status: int, body: bytes, headers: dict[str, str]) -> None:
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
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
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
        outcome = await run_in_threadpool(_claim, caller, key, scope, digest)
        if isinstance(outcome, idempotency.Claimed):
            await self._run_and_keep(outcome.record_id, scope, receive, send)
            return
        await _Refusal(outcome)(scope, receive, send)

    @staticmethod
    def _applies(scope: Scope) -> Caller | None:
        if scope["type"] != "http" or scope["method"] != "POST" or not is_api_path(scope["path"]):
            return None
        caller = caller_outcome(scope)
        if not isinstance(caller, Caller):
            return None  # the route answers 401
        named = Headers(scope=scope).get("x-workspace-id")
        if named is not None and named.strip() != caller.workspace_id:
            return None  # the route answers 403
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
                        await run_in_threadpool(_complete, record_id, status, b"".join(chunks),
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


class _Refusal:
    """The answer when a key cannot be claimed: a replay, or a 409/422 problem."""

    def __init__(self, outcome: idempotency.ClaimOutcome) -> None:
        self.outcome = outcome

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outcome = self.outcome
        if isinstance(outcome, idempotency.Replay):
            headers = {**outcome.headers, REPLAYED_HEADER: "true"}
            response: Response = Response(content=outcome.body.encode("utf-8"),
                                          status_code=outcome.status, headers=headers)
        elif isinstance(outcome, idempotency.Mismatch):
            response = problem_response(
                status=422, scope=scope,
                detail="This Idempotency-Key was already used with a different request; use a "
                       "new key for a new request",
                errors=[FieldError(HEADER, "was used with a different request", "reused")])
        else:
            response = problem_response(
                status=409, scope=scope, headers={"Retry-After": "1"},
                detail="A request with this Idempotency-Key is still being processed; retry "
                       "shortly to receive its response")
        await response(scope, receive, send)
