"""Scenario 4, API: POST trigger and GET run under 50 concurrent clients, open loop.

Each request kind is offered at its target rate first. When the app cannot keep up (answers
fall behind the schedule), it is offered again at 80 % of what it achieved, so the table also
shows the latency the app gives at a load it sustains.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from bench.flows import noop_chain
from bench.harness import Deployment, deployment, run_id, trigger_request
from bench.http import Request
from bench.load import LoadResult, open_loop
from bench.observe import wait_for_runs
from bench.procfs import CpuMeter, cores
from bench.profile import Profile
from bench.report import Row, Table, per_s
from bench.scenarios.common import Options
from bench.stats import summarize

CLIENTS = 50
DURATION_S = 10.0
# Issue 13's targets.
POST_TARGET_PER_S = 400.0
POST_P99_TARGET_S = 0.100
GET_TARGET_PER_S = 1500.0
KEPT_UP = 0.95
SUSTAINED_SHARE = 0.8
GET_RUNS = 100
DRAIN_TIMEOUT_S = 900.0


def _offer(deploy: Deployment, port: int, make: Callable[[int], Request], rate: float,
           seconds: float) -> LoadResult:
    return open_loop(port, make, rate=rate, count=max(1, int(rate * seconds)),
                     clients=CLIENTS, headers=deploy.auth)


def _row(table: Table, label: str, load: LoadResult, cpu: CpuMeter, target: str = "",
         met: bool | None = None) -> None:
    latency = summarize(load.latencies())
    table.add(Row(f"{label} at {per_s(load.offered_rate)} offered", latency=latency,
                  value=f"{per_s(load.achieved_rate)} answered, {load.error_summary()}; "
                        f"app CPU {cores(cpu.cores)}, {cpu.per(len(load.ok))} answer",
                  target=target, met=met))


def _phase(table: Table, deploy: Deployment, port: int, pid: int, options: Options,
           label: str, make: Callable[[int], Request], target_rate: float, target: str,
           met: Callable[[LoadResult], bool]) -> list[LoadResult]:
    seconds = options.seconds(DURATION_S)
    name = f"api-{label.lower().replace(' ', '-')}-{options.kind}"
    with Profile(pid, options.profile_dir, name), CpuMeter(pid) as cpu:
        first = _offer(deploy, port, make, target_rate, seconds)
    _row(table, label, first, cpu, target, met(first))
    results = [first]
    if first.achieved_rate < KEPT_UP * target_rate:
        with CpuMeter(pid) as cpu:
            again = _offer(deploy, port, make, SUSTAINED_SHARE * first.achieved_rate, seconds)
        _row(table, label, again, cpu)
        results.append(again)
    return results


def run(options: Options) -> Table:
    table = Table(f"4. API: POST trigger and GET run, {CLIENTS} concurrent clients")
    with deployment("api", options.kind, options.env) as deploy:
        app = deploy.started_app()
        assert app.process is not None
        workflow_id = deploy.publish(app, "api", noop_chain(1))
        posts = _phase(
            table, deploy, app.port, app.process.pid, options, "POST trigger",
            lambda _i: trigger_request(workflow_id), POST_TARGET_PER_S,
            "≥ 400/s with p99 ≤ 100 ms",
            lambda load: (load.achieved_rate >= POST_TARGET_PER_S * KEPT_UP
                          and summarize(load.latencies()).p99 <= POST_P99_TARGET_S))
        keyed = _phase(
            table, deploy, app.port, app.process.pid, options, "POST trigger with key",
            lambda _i: trigger_request(workflow_id, key=uuid.uuid4().hex),
            POST_TARGET_PER_S, "", lambda load: load.achieved_rate >= POST_TARGET_PER_S * KEPT_UP)
        created = sum(len(load.ok) for load in (*posts, *keyed))
        # The runs just triggered run now; wait, so the GETs do not compete with them.
        wait_for_runs(deploy.db.engine, workflow_id, created, DRAIN_TIMEOUT_S)
        ids = [run_id(s.body) for s in posts[0].ok[:GET_RUNS]]
        _phase(table, deploy, app.port, app.process.pid, options, "GET run",
               lambda i: Request("GET", f"/api/v1/runs/{ids[i % len(ids)]}"),
               GET_TARGET_PER_S, "≥ 1,500/s",
               lambda load: load.achieved_rate >= GET_TARGET_PER_S * KEPT_UP)
    table.note("Latency from each request's scheduled send time; a request still unanswered "
               "at the end of the window counts with the time it was given. POST triggers a "
               "one-step `set` workflow whose runs the same process executes meanwhile; GET "
               "reads a completed one-step run with its steps. 'with key': each POST carries a "
               "fresh Idempotency-Key, as the typed clients send.")
    return table
