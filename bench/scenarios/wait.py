"""Scenario `wait`, run-and-wait under closed-loop load: POST `…/runs?wait=10` from 1, 16
and 64 clients, each sending its next trigger as soon as the last one answered.

The workflow is issue 13's side-by-side one: an input step and five no-op steps. An answer
counts only when it is a 201 with the run COMPLETED (a run still IN_PROGRESS after the wait
is an error). The run rate at 16 clients is the integrators' figure: n8n 2.39.10 gave 37
runs/s at p50 428 ms on the same machine (webhook → five Set nodes → respond).
"""

from __future__ import annotations

import json

from bench.flows import input_then_noops
from bench.harness import deployment
from bench.http import Request
from bench.load import LoadResult, Sample, closed_loop
from bench.procfs import CpuMeter, cores
from bench.profile import Profile
from bench.report import Row, Table, per_s
from bench.scenarios.common import Options
from bench.stats import summarize

CLIENTS = (1, 16, 64)
REQUESTS_PER_CLIENT = 20  # and at least MIN_REQUESTS per level
MIN_REQUESTS = 300
WAIT_S = 10
TARGET_16_PER_S = 300.0
TARGET_16_P99_S = 0.150
BODY = json.dumps({"input": {"name": "bench"}}).encode()


def _completed(sample: Sample) -> bool:
    return sample.status == 201 and json.loads(sample.body).get("status") == "COMPLETED"


def _row(table: Table, clients: int, load: LoadResult, cpu: CpuMeter,
         base: LoadResult | None) -> None:
    done = [s for s in load.samples if _completed(s)]
    latency = summarize([s.latency_s for s in done])
    runs_per_s = len(done) / load.window_s if load.window_s > 0 else 0.0
    target, met = "", None
    if clients == 16:
        target = "≥ 300 runs/s, p99 ≤ 150 ms"
        met = runs_per_s >= TARGET_16_PER_S and latency.p99 <= TARGET_16_P99_S
    if clients == 64 and base is not None:
        base_done = [s for s in base.samples if _completed(s)]
        base_p50 = summarize([s.latency_s for s in base_done]).median
        # "No worse than linearly": 4 x the clients of the 16-client level may cost at most
        # 4 x its median latency.
        target = "p50 ≤ 4 x the 16-client p50"
        met = latency.median <= 4 * base_p50
    not_done = len(load.samples) - len(done)
    table.add(Row(f"{clients} client{'s' if clients > 1 else ''}, {len(load.samples)} runs",
                  latency=latency,
                  value=f"{per_s(runs_per_s, ' runs/s')}, {not_done} not completed; "
                        f"app CPU {cores(cpu.cores)}, {cpu.per(len(done))} run",
                  target=target, met=met))


def run(options: Options) -> Table:
    table = Table("Run-and-wait: POST trigger ?wait=10, closed loop, input + 5 no-op steps")
    with deployment("wait", options.kind, options.env) as deploy:
        app = deploy.started_app()
        assert app.process is not None
        workflow_id = deploy.publish(app, "wait", input_then_noops(5))
        request = Request("POST", f"/api/v1/workflows/{workflow_id}/runs?wait={WAIT_S}", BODY)
        closed_loop(app.port, lambda _i: request, count=20, clients=4, headers=deploy.auth)
        sixteen: LoadResult | None = None
        for clients in CLIENTS:
            count = options.n(max(MIN_REQUESTS, REQUESTS_PER_CLIENT * clients), minimum=clients)
            name = f"wait-{clients}-{options.kind}"
            with Profile(app.process.pid, options.profile_dir, name), \
                    CpuMeter(app.process.pid) as cpu:
                load = closed_loop(app.port, lambda _i: request, count=count, clients=clients,
                                   headers=deploy.auth)
            _row(table, clients, load, cpu, sixteen)
            if clients == 16:
                sixteen = load
    table.note("Latency from each request's send to its whole answer; a client sends again "
               "as soon as it has its answer. One app process runs the API and the executor. "
               "A warm-up of 20 runs from 4 clients comes first.")
    return table
