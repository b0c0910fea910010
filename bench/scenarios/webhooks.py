"""Scenario 5, webhooks: deliveries/s to a loopback receiver draining a backlog, then
event → first byte at the receiver with events arriving at half that rate.

The subscription takes `run.started`, one event per triggered run. The executor is kept
idle (EXECUTOR_CONCURRENCY=0) so the dispatcher is measured alone: the backlog's runs and
the later triggers only make events.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.flows import noop_chain
from bench.harness import Deployment, deployment, free_port, trigger_request
from bench.load import open_loop
from bench.observe import deliveries_succeeded, event_created, wait_until
from bench.procfs import CpuMeter, cores
from bench.profile import Profile
from bench.report import Row, Table, per_s
from bench.scenarios.common import Options
from bench.stats import rate, summarize
from tests.live import LiveApp, LiveProcess, base_env

BACKLOG = 5000
DURATION_S = 10.0
EVENT = "run.started"
DELIVERIES_TARGET_PER_S = 1000.0
DRAIN_TIMEOUT_S = 600.0
READY_TIMEOUT_S = 30.0


def start_receiver(deploy: Deployment) -> tuple[int, Path]:
    port, out = free_port(), deploy.data_dir / "received.tsv"
    receiver = LiveProcess([sys.executable, "-m", "bench.receiver", "--port", str(port),
                            "--out", str(out)], base_env(deploy.data_dir),
                           deploy.data_dir / "receiver.log")
    deploy.processes.append(receiver)
    receiver.start()
    wait_until(lambda: "ready" in receiver.log_text(), READY_TIMEOUT_S, "the receiver")
    return port, out


def subscribe(deploy: Deployment, app: LiveApp, url: str) -> None:
    """Through the API (loopback is allowed in the benchmark's environment)."""
    with deploy.client(app) as client:
        client.request("POST", "/api/v1/webhooks", json={"url": url, "events": [EVENT]})


def first_bytes(path: Path) -> dict[str, float]:
    """webhook-id → first byte of its first delivery."""
    seen: dict[str, float] = {}
    for line in path.read_text().splitlines():
        webhook_id, at = line.split("\t")
        seen.setdefault(webhook_id, float(at))
    return seen


def run(options: Options) -> Table:
    backlog = options.n(BACKLOG)
    table = Table("5. Webhooks: signed deliveries to a loopback receiver")
    with deployment("webhooks", options.kind, options.env) as deploy:
        port, out = start_receiver(deploy)
        creator = deploy.started_app(RUN_SCHEDULER="false")
        subscribe(deploy, creator, f"http://127.0.0.1:{port}/hook")
        workflow_id = deploy.publish(creator, "events", noop_chain(1))
        deploy.trigger_many(creator, workflow_id, backlog)
        creator.stop()
        app = deploy.started_app(EXECUTOR_CONCURRENCY="0")
        assert app.process is not None
        engine = deploy.db.engine
        with (Profile(app.process.pid, options.profile_dir, f"webhooks-{options.kind}"),
              CpuMeter(app.process.pid) as cpu):
            wait_until(lambda: deliveries_succeeded(engine) >= backlog, DRAIN_TIMEOUT_S,
                       f"{backlog} deliveries")
        time.sleep(1.0)  # the receiver flushes its log
        phase_b = time.time()
        max_rate = rate(backlog - 1, _span(first_bytes(out)))
        half = max(1.0, max_rate / 2)
        load = open_loop(app.port, lambda _i: trigger_request(workflow_id), rate=half,
                         count=max(1, int(half * options.seconds(DURATION_S))),
                         headers=deploy.auth)
        wait_until(lambda: deliveries_succeeded(engine) >= backlog + len(load.ok),
                   DRAIN_TIMEOUT_S, "the paced deliveries")
        time.sleep(1.0)
        seen = first_bytes(out)
        paced = {wid: at for wid, at in seen.items() if at >= phase_b}
        created = event_created(engine, list(paced))
    latency = summarize([at - created[wid] for wid, at in paced.items() if wid in created])
    table.add(Row(f"deliveries/s draining a backlog of {backlog:,}",
                  value=f"{per_s(max_rate)}; app CPU {cores(cpu.cores)}, "
                        f"{cpu.per(backlog)} delivery",
                  target="≥ 1,000/s", met=max_rate >= DELIVERIES_TARGET_PER_S))
    table.add(Row(f"event committed → first byte at the receiver, at {per_s(half)}",
                  latency=latency,
                  value=f"{per_s(rate(len(paced), _span(paced)))} delivered"))
    table.note("Deliveries/s: first to last first byte at the receiver (an asyncio server in "
               "its own process answering 200 at once). Event time: event.created_at.")
    return table


def _span(times: dict[str, float]) -> float:
    values = list(times.values())
    return max(values) - min(values) if len(values) > 1 else float("nan")
