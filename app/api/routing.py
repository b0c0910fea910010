"""How the API's route functions run: a plain (sync) route runs in one worker thread, and
the database sessions it was given are closed in that same thread before it returns.

FastAPI would run a sync route in one worker thread, validate its answer in another and close
its yield-dependencies after that. A session kept open across those hops holds its pooled
connection while it waits for a thread, and with more requests in flight than worker threads
every thread ends up waiting for a connection held by a request that waits for a thread:
the process stalled until the pool timed out (seen at 100 concurrent GETs). Closing the
session where the route ran removes the wait, and running the route as a coroutine lets
FastAPI validate the answer on the event loop, which saves two thread hops per request.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from fastapi import APIRouter
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool


def _call_then_close_sessions(endpoint: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    try:
        return endpoint(**kwargs)
    finally:
        for value in kwargs.values():
            if isinstance(value, Session):
                value.close()


def in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A coroutine running the sync `endpoint` (same signature) in one worker thread."""

    @functools.wraps(endpoint)
    async def run(**kwargs: Any) -> Any:
        return await run_in_threadpool(_call_then_close_sessions, endpoint, kwargs)

    return run


class ApiRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = in_one_thread(endpoint)
        super().__init__(path, endpoint, **kwargs)


def limit_worker_threads(count: int) -> None:
    """Run this event loop's blocking calls on at most `count` threads (anyio's default: 40).
    Python threads share one core (the GIL): 40 runnable threads spend the core handing it
    around (per GET measured here: ≈ 6 ms of CPU with 40 threads at 50 concurrent requests,
    ≈ 3.5 ms with 8). Call it from inside the loop, in the app's lifespan."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = max(1, count)


def api_router(**kwargs: Any) -> APIRouter:
    """Every router of the API is made here, so that each route runs as ApiRoute."""
    return APIRouter(route_class=ApiRoute, **kwargs)


def api_paths_first(outer: Any, api: Any) -> Any:
    """An ASGI app that hands `/api/…` (and seed 002's `/v1/…`) paths holding a line break
    straight to the API app.

    Reflex mounts the backend at "" under its own top-level Starlette app, and a mount's
    pattern (`.*`) stops at a newline, so `/api/v1/runs/a%0Ab` got Starlette's bare text
    "Not Found". The API app answers it as every other path under /api: a problem+json
    with the request-id and rate-limit headers."""

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if path.startswith(("/api/", "/v1/")) and ("\n" in path or "\r" in path):
            await api(scope, receive, send)
            return
        await outer(scope, receive, send)

    return guarded
