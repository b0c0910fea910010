"""Scenario 1, pickup latency: trigger → first step started, at 50 triggers/s, idle system."""

from __future__ import annotations

import time

from bench.flows import noop_chain
from bench.harness import deployment, run_id, trigger_request
from bench.load import open_loop
from bench.observe import first_started, step_times, wait_for_runs
from bench.report import Row, Table, per_s
from bench.scenarios.common import Options
from bench.stats import summarize

RATE = 50.0
DURATION_S = 20.0
SETTLE_S = 2.0
P50_TARGET_S = 0.005
P99_TARGET_S = 0.025


def run(options: Options) -> Table:
    count = int(RATE * options.seconds(DURATION_S))
    table = Table("1. Pickup latency: trigger → first step started")
    with deployment("pickup", options.kind, options.env) as deploy:
        app = deploy.started_app()
        workflow_id = deploy.publish(app, "pickup", noop_chain(1))
        time.sleep(SETTLE_S)
        load = open_loop(app.port, lambda _i: trigger_request(workflow_id), rate=RATE,
                         count=count, headers=deploy.auth)
        ok = load.ok
        wait_for_runs(deploy.db.engine, workflow_id, len(ok), timeout_s=120)
        times = step_times(deploy.db.engine, workflow_id)
    started = first_started(times)
    finished = {step.run_id: step.finished for step in times if step.seq == 0}
    pickup = summarize([started[run_id(s.body)] - s.scheduled_wall for s in ok])
    done = summarize([finished[run_id(s.body)] - s.scheduled_wall for s in ok])
    table.add(Row("trigger sent (scheduled) → first step started", latency=pickup,
                  target="p50 ≤ 5 ms, p99 ≤ 25 ms",
                  met=pickup.median <= P50_TARGET_S and pickup.p99 <= P99_TARGET_S))
    table.add(Row("trigger sent (scheduled) → first step finished", latency=done))
    table.add(Row("POST trigger answered (201)", latency=summarize([s.latency_s for s in ok])))
    answered = per_s(load.achieved_rate)
    table.add(Row("triggers offered / answered",
                  value=f"{per_s(RATE)} / {answered}, {load.error_summary()}"))
    table.note(f"{count} triggers of a one-step `set` workflow, open loop at {RATE:g}/s; "
               "start time from step_run.started_at: when the step is leased to an executor, by a "
               "claim or, in the app that took the trigger, in the trigger's own commit "
               "(hand-over); its end from finished_at.")
    return table
