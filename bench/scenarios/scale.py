"""Scenario 7, scale: the throughput backlog drained by 1, 2 and 4 headless workers.

The web app creates the runs and does not execute (RUN_SCHEDULER=false). The workers start
first and are paused (SIGSTOP) while the backlog is created, then resumed together, so none
gets a head start while the others are still importing.
"""

from __future__ import annotations

import signal

from bench.flows import noop_chain
from bench.harness import deployment
from bench.report import Row, Table, per_s
from bench.scenarios.common import Drain, Options, measure_drain
from bench.scenarios.throughput import RUNS, STEPS

WORKER_COUNTS = (1, 2, 4)
SPEED_UP_TARGET = 1.6  # issue 13


def drain_with_workers(options: Options, workers: int, runs: int) -> Drain:
    with deployment(f"scale{workers}", options.kind, options.env) as deploy:
        app = deploy.started_app(RUN_SCHEDULER="false")
        workflow_id = deploy.publish(app, "noop-5", noop_chain(STEPS))
        started = deploy.workers(workers)
        for worker in started:
            worker.signal(signal.SIGSTOP)
        deploy.trigger_many(app, workflow_id, runs)
        for worker in started:
            worker.signal(signal.SIGCONT)
        return measure_drain(deploy, workflow_id, runs)


def run(options: Options) -> Table:
    runs = options.n(RUNS)
    table = Table(f"7. Scale: {runs:,} runs x {STEPS} steps drained by headless workers")
    if options.kind != "postgres":
        table.note("PostgreSQL only (run with --db postgres or --db both).")
        return table
    drains = {n: drain_with_workers(options, n, runs) for n in WORKER_COUNTS}
    one = drains[1].steps_per_s
    for n, drain in drains.items():
        speed_up = drain.steps_per_s / one
        table.add(Row(f"{n} worker{'s' if n > 1 else ''}: steps/s",
                      value=f"{per_s(drain.steps_per_s)} (x {speed_up:.2f}), "
                            f"{per_s(drain.runs_per_s, 'runs/s')}",
                      target=f"≥ {SPEED_UP_TARGET} x one worker" if n == 2 else "",
                      met=speed_up >= SPEED_UP_TARGET if n == 2 else None))
    table.note("Each worker: EXECUTOR_CONCURRENCY and CLAIM_BATCH at their defaults; wake-ups "
               "across processes by LISTEN/NOTIFY. The machine's cores bound the speed-up: "
               "with 2 cores, 4 workers share the same CPU as 2.")
    return table
