"""More requests in flight than the process has worker threads (40) and pooled connections:
every one is answered. A route's session used to stay open until FastAPI had validated the
answer in another worker thread, so all threads waited for connections held by requests
waiting for a thread, and the process stalled until the pool timed out."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from tests.integration.api.conftest import QUICK, Tenant

IN_FLIGHT = 120


async def _all_at_once(api: FastAPI, key: str, requests: list[tuple[str, str, dict]]) -> list[int]:
    transport = httpx.ASGITransport(app=api)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test",
                                 headers=headers, timeout=60) as client:
        answers = await asyncio.gather(*(client.request(method, path, json=body or None)
                                         for method, path, body in requests))
    return [answer.status_code for answer in answers]


def test_more_concurrent_reads_than_worker_threads_are_all_answered(
        acme: Tenant, api: FastAPI) -> None:
    workflow_id = acme.publish(QUICK)
    run_id = acme.post(f"/api/v1/workflows/{workflow_id}/runs", json={}).json()["id"]
    reads = [("GET", f"/api/v1/runs/{run_id}", {})] * IN_FLIGHT
    statuses = asyncio.run(_all_at_once(api, acme.key, reads))
    assert statuses == [200] * IN_FLIGHT


def test_concurrent_writes_and_reads_are_all_answered(acme: Tenant, api: FastAPI) -> None:
    workflow_id = acme.publish(QUICK)
    mixed = [("POST", f"/api/v1/workflows/{workflow_id}/runs", {"input": {}}),
             ("GET", "/api/v1/runs", {})] * (IN_FLIGHT // 2)
    statuses = asyncio.run(_all_at_once(api, acme.key, mixed))
    assert statuses == [201, 200] * (IN_FLIGHT // 2)
    listed = acme.get("/api/v1/runs", params={"workflow_id": workflow_id, "limit": 100}).json()
    assert len(listed["data"]) == IN_FLIGHT // 2


def test_every_route_runs_as_a_coroutine(api: FastAPI) -> None:
    """A sync route would be run by FastAPI itself, its session closed only after the answer
    was validated in another thread: every router is made by app.api.routing.api_router."""
    import inspect

    from fastapi.routing import APIRoute, iter_route_contexts

    routes = [context.original_route for context in iter_route_contexts(api.routes)]
    api_routes = [route for route in routes if isinstance(route, APIRoute)]
    assert len(api_routes) > 50
    sync = [route.path for route in api_routes if not inspect.iscoroutinefunction(route.endpoint)]
    assert sync == []


def test_the_worker_thread_limit_applies_to_the_running_loop() -> None:
    import anyio.to_thread

    from app.api.routing import limit_worker_threads

    async def limit_seen() -> float:
        limit_worker_threads(3)
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert asyncio.run(limit_seen()) == 3
