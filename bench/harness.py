"""Deployments under test: a fresh database and data folder per scenario, the app and workers
as real processes (tests/live.py), ports in 3500-3599, an API key, workflows published
through the API; everything stopped, dropped and removed afterwards."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.client import FlowdeskClient
from bench.http import Request
from bench.load import open_loop
from tests.live import LiveApp, LiveProcess, LiveWorker

BENCH_ROOT = Path("/tmp/flowdesk-bench")
PORTS = range(3500, 3600)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
UNLIMITED = "1000000000"
# Limits raised so the benchmark measures the engine, not the rate limiter.
BENCH_ENV = {
    "RATE_LIMIT_READ_PER_MIN": UNLIMITED,
    "RATE_LIMIT_WRITE_PER_MIN": UNLIMITED,
    "MAX_CONCURRENT_RUNS": UNLIMITED,
}
SETUP_RATE = 1000.0
SETUP_CLIENTS = 16
SETUP_GRACE_S = 900.0
WORKER_START_TIMEOUT_S = 60.0

_next_port = PORTS.start


def free_port() -> int:
    """The next port of the benchmark's range that nothing listens on."""
    global _next_port
    for _ in range(len(PORTS)):
        port = _next_port
        _next_port = PORTS.start + (_next_port + 1 - PORTS.start) % len(PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class Database:
    """A SQLite file in the data folder, or a PostgreSQL database made for one scenario."""

    def __init__(self, kind: str, data_dir: Path, name: str) -> None:
        self.kind = kind
        self.pg_name = name if kind == "postgres" else ""
        self.url = (PG_URL.format(name=name) if kind == "postgres"
                    else f"sqlite:///{data_dir / 'app.db'}")
        self._engine: Engine | None = None

    def create(self) -> None:
        if self.pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{self.pg_name}"')

    def drop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        if self.pg_name:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    @property
    def engine(self) -> Engine:
        """A read engine of the benchmark's own (the app's settings stay untouched here)."""
        if self._engine is None:
            args = {"timeout": 30} if self.kind == "sqlite" else {}
            self._engine = sa.create_engine(self.url, connect_args=args)
        return self._engine


def describe_database(kind: str) -> str:
    if kind == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL, file under /tmp)"
    with psycopg.connect(PG_ADMIN_URL) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'} on 127.0.0.1 (same machine)"


class Deployment:
    """One scenario's world: its database, data folder, processes and API key."""

    def __init__(self, scenario: str, kind: str, env: dict[str, str] | None = None) -> None:
        tag = f"{scenario}-{kind}-{uuid.uuid4().hex[:6]}"
        self.kind = kind
        # BENCH_ENV, then the command line's --env, then what a scenario sets for one process.
        self.env = {**BENCH_ENV, **(env or {})}
        self.data_dir = BENCH_ROOT / tag
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(kind, self.data_dir, f"bench_{tag.replace('-', '_')}")
        self.processes: list[LiveProcess] = []
        self.api_key = ""

    def open(self) -> None:
        self.db.create()
        setup = LiveApp(self.data_dir, port=free_port(), database_url=self.db.url, **self.env)
        setup.migrate_and_seed()
        self.api_key = setup.cli("mint-api-key", "--scopes", "all").stdout.strip().splitlines()[-1]

    def close(self) -> None:
        for process in reversed(self.processes):
            process.signal(signal.SIGCONT)  # a stopped process cannot drain
            process.stop()
        self.db.drop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def app(self, **env: str) -> LiveApp:
        """The app (backend only) on a port of the range; not started yet."""
        app = LiveApp(self.data_dir, port=free_port(), database_url=self.db.url,
                      **{**self.env, **env})
        self.processes.append(app)
        return app

    def started_app(self, **env: str) -> LiveApp:
        app = self.app(**env)
        app.start()
        return app

    def workers(self, count: int, **env: str) -> list[LiveWorker]:
        """`count` headless workers, started, once each has logged that it runs."""
        workers = [LiveWorker(self.data_dir, database_url=self.db.url, name=f"worker{i}",
                              **{**self.env, **env}) for i in range(count)]
        self.processes.extend(workers)
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while not all("background jobs started" in w.log_text() for w in workers):
            if time.monotonic() > deadline or not all(w.alive() for w in workers):
                raise RuntimeError("workers did not start: " + workers[0].log_text()[-2000:])
            time.sleep(0.1)
        return workers

    def client(self, app: LiveApp) -> FlowdeskClient:
        return FlowdeskClient(app.url, api_key=self.api_key)

    def publish(self, app: LiveApp, title: str, definition: dict[str, Any]) -> str:
        """Create and publish a workflow through the API; returns its id."""
        with self.client(app) as client:
            workflow = client.workflows.create(title, definition)
            client.workflows.publish(workflow.id)
        return workflow.id

    def trigger_many(self, app: LiveApp, workflow_id: str, count: int) -> list[str]:
        """Set-up, not a measurement: start `count` runs as fast as the API takes them."""
        result = open_loop(app.port, lambda _i: trigger_request(workflow_id), rate=SETUP_RATE,
                           count=count, clients=SETUP_CLIENTS, headers=self.auth,
                           grace_s=SETUP_GRACE_S)
        failed = [s.status for s in result.samples if not s.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} of {count} triggers failed: {failed[:5]}")
        return [run_id(s.body) for s in result.samples]


def trigger_request(workflow_id: str, wait_s: float = 0.0, key: str | None = None) -> Request:
    """A trigger; `key`: sent as its Idempotency-Key (as the typed clients do)."""
    query = f"?wait={wait_s:g}" if wait_s else ""
    headers = (("Idempotency-Key", key),) if key else ()
    return Request("POST", f"/api/v1/workflows/{workflow_id}/runs{query}", b'{"input": {}}',
                   headers=headers)


def run_id(body: bytes) -> str:
    return str(json.loads(body)["id"])


@contextlib.contextmanager
def deployment(scenario: str, kind: str,
               env: dict[str, str] | None = None) -> Iterator[Deployment]:
    deploy = Deployment(scenario, kind, env)
    try:
        deploy.open()
        yield deploy
    finally:
        deploy.close()
