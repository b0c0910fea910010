"""Calibration: what the machine does without Flowdesk, so results read as a share of it.

- a raw commit loop: one small insert per transaction (sqlite3 in WAL mode with the app's
  pragmas, BEGIN IMMEDIATE … COMMIT, from one thread and from 16 contending ones; or psycopg
  on PostgreSQL);
- a bare Starlette endpoint served like the app (granian, ASGI, one worker), driven by the
  same open-loop generator and 50 clients: the ceiling of server + generator on this machine.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from bench.harness import PG_ADMIN_URL, Database, Deployment, deployment, free_port
from bench.http import Request
from bench.load import open_loop
from bench.procfs import CpuMeter, cores
from bench.report import Row, Table, per_s
from bench.scenarios.common import Options
from bench.stats import rate, summarize
from tests.live import LiveProcess, base_env

COMMITS = 5000
CLIENTS = 50
SATURATING_RATE = 10_000.0
SATURATING_S = 2.0
PACED_S = 10.0
PACED_RATES = (1000.0, 3000.0)
READY_TIMEOUT_S = 30.0
ROW = "insert into t (payload) values (?)"
# As many writers as the executor has threads (EXECUTOR_CONCURRENCY's default).
CONTENDING_THREADS = 16
BUSY_TIMEOUT_S = 30.0


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S,
                           check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _sqlite_loop(path: Path, count: int, latencies: list[float]) -> None:
    conn = _sqlite_connect(path)
    for i in range(count):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(ROW, (f"row {i}",))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    conn.close()


def sqlite_commits(path: Path, count: int, threads: int = 1) -> tuple[list[float], float]:
    """Per-commit latencies and the elapsed time of `threads` loops sharing `count` commits."""
    conn = _sqlite_connect(path)
    conn.execute("create table if not exists t (id integer primary key, payload text)")
    conn.close()
    latencies: list[float] = []
    loops = [threading.Thread(target=_sqlite_loop, args=(path, count // threads, latencies))
             for _ in range(threads)]
    start = time.perf_counter()
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()
    return latencies, time.perf_counter() - start


def postgres_commits(db: Database, count: int) -> tuple[list[float], float]:
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + db.pg_name
    latencies = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table t (id bigserial primary key, payload text)")
        for i in range(count):
            start = time.perf_counter()
            with conn.transaction():
                conn.execute("insert into t (payload) values (%s)", (f"row {i}",))
            latencies.append(time.perf_counter() - start)
    return latencies, sum(latencies)


def commit_rows(table: Table, deploy: Deployment, count: int) -> None:
    if deploy.kind == "sqlite":
        path = deploy.data_dir / "calibration.db"
        runs = [("sqlite3 commit loop (WAL, synchronous=NORMAL)", sqlite_commits(path, count)),
                (f"the same from {CONTENDING_THREADS} threads of one process (busy_timeout)",
                 sqlite_commits(path, count, CONTENDING_THREADS))]
    else:
        runs = [("psycopg commit loop (one insert per transaction)",
                 postgres_commits(deploy.db, count))]
    for label, (latencies, elapsed) in runs:
        table.add(Row(label, latency=summarize(latencies),
                      value=per_s(rate(len(latencies), elapsed), "commits/s")))


@dataclass(frozen=True)
class BareApp:
    port: int
    pgid: int


def start_bare_app(deploy: Deployment) -> BareApp:
    port = free_port()
    server = LiveProcess([sys.executable, "-m", "bench.bare_app", "--port", str(port)],
                         base_env(deploy.data_dir), deploy.data_dir / "bare_app.log")
    deploy.processes.append(server)
    server.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/item", timeout=1)
            assert server.process is not None
            return BareApp(port, server.process.pid)
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"the bare app did not start: {server.log_text()[-2000:]}")


def load_row(table: Table, label: str, bare: BareApp, request: Request, rate: float,
             seconds: float) -> None:
    with CpuMeter(bare.pgid) as cpu:
        load = open_loop(bare.port, lambda _i: request, rate=rate, count=int(rate * seconds),
                         clients=CLIENTS)
    table.add(Row(f"{label} at {per_s(load.offered_rate)} offered",
                  latency=summarize(load.latencies()),
                  value=f"{per_s(load.achieved_rate)} answered, {load.error_summary()}; "
                        f"server CPU {cores(cpu.cores)}, {cpu.per(len(load.ok))} answer"))


def run(options: Options) -> Table:
    table = Table("0. Calibration: the machine without Flowdesk")
    get = Request("GET", "/item")
    post = Request("POST", "/item", b'{"input": {}}')
    with deployment("calibration", options.kind, options.env) as deploy:
        commit_rows(table, deploy, options.n(COMMITS))
        bare = start_bare_app(deploy)
        for label, request in (("bare Starlette GET", get), ("bare Starlette POST", post)):
            load_row(table, f"{label} (saturated)", bare, request, SATURATING_RATE,
                     options.seconds(SATURATING_S))
        for paced_rate in PACED_RATES:
            load_row(table, "bare Starlette GET", bare, get, paced_rate,
                     options.seconds(PACED_S))
    table.note("Saturated rows offer far more than the server answers: their answered rate is "
               "the ceiling of server + generator on this machine, their latency the queue the "
               "schedule builds up.")
    return table
