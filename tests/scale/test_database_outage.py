"""PostgreSQL unreachable for 20 s mid-load (a loopback proxy cut, not the shared server):
the API answers 503 problem+json with Retry-After (never a raw 500), workers back off and
resume, and every accepted run completes."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from app.db import write_session
from app.models import Actor
from app.services import api_keys
from tests.live import LiveApp
from tests.scale.test_workers import completed, count_flow, executions, start_workers, wait_until
from tests.support import World
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
OUTAGE_S = 20


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    host = f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host}" if parts.username
                                     else host))


def trigger(client: httpx.Client, workflow_id: str) -> httpx.Response:
    return client.post(f"/api/v1/workflows/{workflow_id}/runs", json={"input": {}})


def test_outage_gives_503s_and_loses_no_run(postgres_db: str, tmp_path: Path) -> None:
    from app.engine.tools import load_tool_modules

    load_tool_modules(["tests.tools"])
    world = World.create()
    workflow_id = world.publish(count_flow(5, sleep=0.05))
    with write_session() as session:
        secret = api_keys.mint_api_key(session, workspace_id=world.workspace_id,
                                       actor=Actor.system(), name="outage",
                                       scopes=["runs:read", "runs:write"]).secret
    proxy = TcpProxy("127.0.0.1", urlsplit(postgres_db).port or 5432)
    url = through(proxy, postgres_db)
    api = LiveApp(tmp_path / "web", database_url=url, RUN_SCHEDULER="false",
                  TOOL_MODULES="tests.tools", RATE_LIMIT_WRITE_PER_MIN="100000")
    api.start()
    workers = start_workers(2, tmp_path, url, EXECUTOR_CONCURRENCY="4", LEASE_S="5")
    accepted: list[str] = []
    during: list[httpx.Response] = []
    client = httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {secret}"},
                          timeout=30)
    try:
        for _ in range(30):
            response = trigger(client, workflow_id)
            assert response.status_code == 201, response.text
            accepted.append(response.json()["id"])
        assert wait_until(lambda: completed() >= 5, 60)
        proxy.cut()
        deadline = time.monotonic() + OUTAGE_S
        while time.monotonic() < deadline:
            during.append(trigger(client, workflow_id))
            during.append(client.get("/api/v1/runs"))
            time.sleep(1)
        assert completed() < len(accepted), "the outage came too late to test anything"
        proxy.restore()
        for _ in range(30):
            response = trigger(client, workflow_id)
            if response.status_code == 201:
                accepted.append(response.json()["id"])
        accepted += [r.json()["id"] for r in during if r.status_code == 201 and
                     r.request.method == "POST"]
        assert wait_until(lambda: completed() == len(accepted), 120), \
            f"{completed()}/{len(accepted)}"
        assert all(worker.alive() for worker in workers)
    finally:
        client.close()
        codes = [worker.stop() for worker in workers]
        api.stop()
        proxy.close()
    assert codes == [0, 0]
    statuses = {r.status_code for r in during}
    assert 500 not in statuses and 503 in statuses, statuses
    unavailable = [r for r in during if r.status_code == 503]
    assert all(r.headers["content-type"].startswith("application/problem+json")
               for r in unavailable)
    assert all("retry-after" in r.headers for r in unavailable)
    assert unavailable[0].json()["code"] == "UNAVAILABLE"
    seen = executions(tmp_path / "count.log")
    assert {run_id for run_id, _ in seen} == set(accepted)
