"""Scenario 6, human step: approval decided through the API → next step started."""

from __future__ import annotations

import time

from bench.flows import AFTER_APPROVAL, approval_then_step
from bench.harness import deployment
from bench.http import Request
from bench.load import open_loop
from bench.observe import first_started, pending_approvals, step_times, wait_for_runs, wait_until
from bench.report import Row, Table, per_s
from bench.scenarios.common import Options
from bench.stats import summarize

APPROVALS = 400
RATE = 20.0
SETTLE_S = 2.0
P50_TARGET_S = 0.010
DECISION = b'{"decision": "approved", "comment": "benchmark"}'


def run(options: Options) -> Table:
    count = options.n(APPROVALS, minimum=20)
    table = Table("6. Human step: approval decided via API → next step started")
    with deployment("human", options.kind, options.env) as deploy:
        app = deploy.started_app()
        workflow_id = deploy.publish(app, "approval", approval_then_step())
        deploy.trigger_many(app, workflow_id, count)
        engine = deploy.db.engine
        wait_until(lambda: len(pending_approvals(engine, workflow_id)) >= count, 300,
                   f"{count} pending approvals")
        pending = pending_approvals(engine, workflow_id)
        time.sleep(SETTLE_S)
        load = open_loop(app.port, lambda i: Request(
            "POST", f"/api/v1/approvals/{pending[i][0]}/decide", DECISION), rate=RATE,
            count=count, headers=deploy.auth)
        wait_for_runs(engine, workflow_id, len(load.ok), timeout_s=120)
        started = first_started(step_times(engine, workflow_id), AFTER_APPROVAL)
    latency = summarize([started[pending[s.index][1]] - s.scheduled_wall for s in load.ok])
    table.add(Row("decision sent (scheduled) → next step started", latency=latency,
                  target="p50 ≤ 10 ms", met=latency.median <= P50_TARGET_S))
    table.add(Row("POST decide answered", latency=summarize([s.latency_s for s in load.ok])))
    table.add(Row("decisions offered / answered",
                  value=f"{per_s(RATE)} / {per_s(load.achieved_rate)}, {load.error_summary()}"))
    table.note(f"{count} runs blocked on an approval, decided open loop at {RATE:g}/s.")
    return table
