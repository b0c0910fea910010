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

from app.api.errors import is_api_path


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
    """An ASGI app that hands HTTP requests for `/api/…` (and seed 002's `/v1/…`) straight
    to the API app, and everything else to Reflex's top-level app.

    Reflex's top-level app wraps everything it serves in its error handler, CORS and
    context layers and then a mount at "" of the app holding the API (which has its own
    error handling and CORS); the API needs none of the outer ones, which cost every API
    request a few wrappers around each receive and send. Handing the API its own paths
    also covers a path holding a line break, which a mount's pattern (`.*`) does not match
    (`/api/v1/runs/a%0Ab` got Starlette's bare text "Not Found"): it gets the API's
    problem+json with the request-id and rate-limit headers like any path under /api."""

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_api_path(scope["path"]):
            await api(scope, receive, send)
            return
        await outer(scope, receive, send)

    return guarded
