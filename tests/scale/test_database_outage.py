"""PostgreSQL unreachable for 20 s mid-load (a loopback proxy cut, not the shared server):
workers back off, resume, and every run completes."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.scale.test_workers import completed, count_flow, executions, start_workers, wait_until
from tests.support import World
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
OUTAGE_S = 20


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else \
        f"127.0.0.1:{proxy.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def test_workers_survive_a_database_outage_and_finish_every_run(postgres_db: str,
                                                                tmp_path: Path) -> None:
    from app.engine.tools import load_tool_modules

    load_tool_modules(["tests.tools"])
    world = World.create()
    workflow_id = world.publish(count_flow(5, sleep=0.05))
    runs = 60
    run_ids = [world.trigger(workflow_id) for _ in range(runs)]
    proxy = TcpProxy("127.0.0.1", urlsplit(postgres_db).port or 5432)
    workers = start_workers(2, tmp_path, through(proxy, postgres_db), EXECUTOR_CONCURRENCY="4",
                            LEASE_S="5")
    try:
        assert wait_until(lambda: completed() >= 5, 60)
        proxy.cut()
        time.sleep(OUTAGE_S)
        assert completed() < runs, "the outage came too late to test anything"
        proxy.restore()
        assert wait_until(lambda: completed() == runs, 120), f"{completed()}/{runs}"
        assert all(worker.alive() for worker in workers)
    finally:
        codes = [worker.stop() for worker in workers]
        proxy.close()
    assert codes == [0, 0]
    seen = executions(tmp_path / "count.log")
    assert {run_id for run_id, _ in seen} == set(run_ids)
    assert len(seen) == runs * 5
