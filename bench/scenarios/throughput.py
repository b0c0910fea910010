"""Scenario 2, throughput: a backlog of 5-step no-op runs drained by the app's executor."""

from __future__ import annotations

from bench.flows import noop_chain
from bench.harness import Deployment, deployment
from bench.procfs import CpuMeter, cores
from bench.profile import Profile
from bench.report import Row, Table, ms, per_s
from bench.scenarios.common import Drain, Options, measure_drain

RUNS = 2000
STEPS = 5
STEPS_TARGET_PER_S = 1000.0


def create_backlog(deploy: Deployment, runs: int) -> str:
    """Start `runs` runs with no executor running; returns the workflow id."""
    creator = deploy.started_app(RUN_SCHEDULER="false")
    workflow_id = deploy.publish(creator, "noop-5", noop_chain(STEPS))
    deploy.trigger_many(creator, workflow_id, runs)
    creator.stop()
    return workflow_id


def drain_rows(table: Table, drain: Drain, label: str = "") -> None:
    table.add(Row(f"steps/s{label}", value=per_s(drain.steps_per_s),
                  target="≥ 1,000 steps/s", met=drain.steps_per_s >= STEPS_TARGET_PER_S))
    table.add(Row(f"runs/s{label}", value=per_s(drain.runs_per_s)))
    table.add(Row(f"drain time{label} (first step start → last step end)",
                  value=f"{drain.span_s:.2f} s for {drain.runs:,} runs, {drain.steps:,} steps"))


def run(options: Options) -> Table:
    runs = options.n(RUNS)
    table = Table(f"2. Throughput: {runs:,} runs of a {STEPS}-step no-op workflow")
    with deployment("throughput", options.kind, options.env) as deploy:
        workflow_id = create_backlog(deploy, runs)
        app = deploy.app()
        app.start()
        assert app.process is not None
        with (Profile(app.process.pid, options.profile_dir, f"throughput-{options.kind}"),
              CpuMeter(app.process.pid) as cpu):
            drain = measure_drain(deploy, workflow_id, runs)
    drain_rows(table, drain)
    table.add(Row("app CPU while draining", value=f"{cores(cpu.cores)}, {cpu.per(drain.steps)}"
                                                  " step"))
    table.note("The runs are created through the API with the executor off (RUN_SCHEDULER="
               "false), then the app restarts with it on (EXECUTOR_CONCURRENCY and CLAIM_BATCH "
               f"at their defaults) and drains them: {ms(1 / drain.steps_per_s)} of wall time per "
               "step.")
    return table
