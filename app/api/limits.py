"""Per-key rate limits: a read bucket (GET, HEAD) and a write bucket (everything else).

Fixed windows of one minute, counted in this process (`FixedWindows`), or through slowapi's
`Limiter` in Redis when REDIS_URL is set, so several processes share one count. It is driven
from this middleware rather than slowapi's route decorators because every API answer must
carry the limit headers (401s, 404s and 413s included), the bucket depends on the key
resolved before routing, and a workspace may override the defaults from settings.

Headers on every /api/ response: `X-RateLimit-Limit`, `X-RateLimit-Remaining`,
`X-RateLimit-Reset` (Unix seconds), and the IETF draft's `RateLimit-Policy: "read";q=600;w=60`
and `RateLimit: "read";r=599;t=42`. Over the limit: 429 problem with `Retry-After`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from slowapi import Limiter
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import caller_outcome
from app.api.errors import is_api_path, problem_response
from app.api.middleware import RESPONSE_HEADERS_STATE, state_of
from app.services.api_access import KeyGrant
from app.settings import Settings, get_settings

WINDOW_S = 60
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Docs and the schema are not API calls: browsing the reference costs nothing.
UNLIMITED_PREFIXES = ("/api/v1/docs", "/api/v1/openapi.json")


SWEEP_EVERY_S = 60.0


class FixedWindows:
    """The counts of one process, as limits' memory storage keeps them (a window opens at its
    bucket's first hit and lasts WINDOW_S; a hit over the limit still counts) but as one dict
    under one lock: that storage's per-key locks and expiry timer were most of a request's
    rate-limit cost. Expired windows are swept once a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str, int], list[float]] = {}
        self._next_sweep = 0.0

    def hit(self, bucket: str, identity: str, limit: int, now: float) -> tuple[int, float]:
        """Count one hit; (hits in the window so far, when the window ends)."""
        key = (bucket, identity, limit)  # a changed limit starts afresh, as in limits
        with self._lock:
            if now >= self._next_sweep:
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
                self._next_sweep = now + SWEEP_EVERY_S
            window = self._windows.get(key)
            if window is None or window[0] <= now:
                window = self._windows[key] = [now + WINDOW_S, 0.0]
            window[1] += 1
            return int(window[1]), window[0]

    def open_windows(self) -> int:
        return len(self._windows)


class BucketLimiter(Limiter):
    """slowapi's limiter (Redis storage when REDIS_URL is set, so processes share counts),
    counting in `windows` instead when the counts stay in this process."""

    windows: FixedWindows | None = None


def new_limiter(settings: Settings) -> Limiter:
    limiter = BucketLimiter(key_func=lambda: "unused",
                            storage_uri=settings.redis_url or "memory://",
                            strategy="fixed-window", key_prefix="flowdesk")
    if not settings.redis_url:
        limiter.windows = FixedWindows()
    return limiter


@dataclass(frozen=True)
class Verdict:
    bucket: str  # "read" | "write"
    limit: int
    remaining: int
    reset_at: float  # Unix seconds

    @property
    def allowed(self) -> bool:
        return self.remaining >= 0

    def headers(self, now: float) -> dict[str, str]:
        left = max(self.remaining, 0)
        reset_in = max(0, math.ceil(self.reset_at - now))
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
            "RateLimit-Policy": f'"{self.bucket}";q={self.limit};w={WINDOW_S}',
            "RateLimit": f'"{self.bucket}";r={left};t={reset_in}',
        }


def _limit_for(bucket: str, caller: KeyGrant | None) -> int:
    settings = get_settings()
    if bucket == "read":
        own = caller.read_limit_per_min if caller else None
        return own or settings.rate_limit_read_per_min
    own = caller.write_limit_per_min if caller else None
    return own or settings.rate_limit_write_per_min


def take(limiter: Limiter, *, bucket: str, identity: str, caller: KeyGrant | None) -> Verdict:
    """Count one request against its bucket (blocking when the storage is Redis)."""
    limit = _limit_for(bucket, caller)
    windows = limiter.windows if isinstance(limiter, BucketLimiter) else None
    if windows is not None:
        hits, reset_at = windows.hit(bucket, identity, limit, time.time())
        return Verdict(bucket=bucket, limit=limit,
                       remaining=limit - hits if hits <= limit else -1, reset_at=reset_at)
    item = RateLimitItemPerMinute(limit)
    strategy = limiter.limiter
    hit = strategy.hit(item, bucket, identity)
    reset_at, remaining = strategy.get_window_stats(item, bucket, identity)
    return Verdict(bucket=bucket, limit=limit, remaining=remaining if hit else -1,
                   reset_at=reset_at)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limiter: Limiter, shared_storage: bool,
                 clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self.limiter = limiter
        self.clock = clock
        # A Redis round trip blocks: take it off the event loop; memory counts are instant.
        self._blocking = shared_storage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or not is_api_path(path)
                or path.startswith(UNLIMITED_PREFIXES)):
            await self.app(scope, receive, send)
            return
        outcome = caller_outcome(scope)
        caller = outcome if isinstance(outcome, KeyGrant) else None
        client = scope.get("client")
        identity = f"key:{caller.key_id}" if caller else f"ip:{client[0] if client else '-'}"
        bucket = "read" if scope["method"] in READ_METHODS else "write"
        if self._blocking:
            verdict = await run_in_threadpool(take, self.limiter, bucket=bucket,
                                              identity=identity, caller=caller)
        else:
            verdict = take(self.limiter, bucket=bucket, identity=identity, caller=caller)
        now = self.clock()
        headers = verdict.headers(now)
        if not verdict.allowed:
            retry_after = max(1, math.ceil(verdict.reset_at - now))
            response = problem_response(
                status=429, scope=scope, code="RATE_LIMITED",
                detail=f"Rate limit of {verdict.limit} {bucket} requests per minute exceeded; "
                       f"retry in {retry_after} s",
                extra={"limit": verdict.limit, "bucket": bucket, "retry_after": retry_after},
                headers={**headers, "Retry-After": str(retry_after)})
            await response(scope, receive, send)
            return
        # Set on the answer by RequestContextMiddleware, with the request id, whatever
        # answers below (a route, a problem, the last-resort 500).
        state_of(scope)[RESPONSE_HEADERS_STATE] = headers
        await self.app(scope, receive, send)
