"""Scenario 8, memory: peak RSS of the app's whole process group, idle and draining the
throughput backlog (scenario 2), from /proc."""

from __future__ import annotations

import time

from bench.harness import deployment
from bench.procfs import PeakSampler
from bench.report import Row, Table, mib
from bench.scenarios.common import Options, measure_drain
from bench.scenarios.throughput import RUNS, STEPS, create_backlog

IDLE_S = 10.0


def run(options: Options) -> Table:
    runs = options.n(RUNS)
    table = Table("8. Memory: peak of the app's process group (reflex CLI, granian, worker)")
    with deployment("memory", options.kind, options.env) as deploy:
        idle_app = deploy.started_app()
        assert idle_app.process is not None
        with PeakSampler(idle_app.process.pid) as idle:
            time.sleep(options.seconds(IDLE_S))
        idle_app.stop()
        workflow_id = create_backlog(deploy, runs)
        app = deploy.app()
        app.start()
        assert app.process is not None
        with PeakSampler(app.process.pid) as busy:
            measure_drain(deploy, workflow_id, runs)
    for label, peak in (("idle", idle.peak), (f"draining {runs:,} x {STEPS}-step runs",
                                               busy.peak)):
        table.add(Row(f"{label}: RSS (PSS)", value=f"{mib(peak.rss)} ({mib(peak.pss)}), "
                                                   f"{peak.processes} processes"))
    table.note("RSS is summed over the group's processes, so pages a forked worker shares with "
               "its parent count twice; PSS counts them once. No target in the issue.")
    return table
