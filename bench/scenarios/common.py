"""What every scenario shares: its options, and draining a backlog of no-op runs."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.harness import Deployment
from bench.observe import step_times, wait_for_runs
from bench.stats import rate

QUICK_DIVISOR = 10
DRAIN_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class Options:
    kind: str  # "sqlite" | "postgres"
    quick: bool = False
    profile_dir: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # for every app and worker process

    def n(self, full: int, minimum: int = 1) -> int:
        """A count, shrunk for a smoke run."""
        return max(minimum, full // QUICK_DIVISOR) if self.quick else full

    def seconds(self, full: float, minimum: float = 1.0) -> float:
        return max(minimum, full / QUICK_DIVISOR) if self.quick else full


@dataclass(frozen=True)
class Drain:
    runs: int
    steps: int
    span_s: float  # first step started → last step finished

    @property
    def steps_per_s(self) -> float:
        return rate(self.steps, self.span_s)

    @property
    def runs_per_s(self) -> float:
        return rate(self.runs, self.span_s)


def measure_drain(deploy: Deployment, workflow_id: str, runs: int) -> Drain:
    """Wait for `runs` runs of the workflow to complete; the span of their steps."""
    wait_for_runs(deploy.db.engine, workflow_id, runs, DRAIN_TIMEOUT_S)
    steps = step_times(deploy.db.engine, workflow_id)
    span = max(s.finished for s in steps) - min(s.started for s in steps)
    return Drain(runs=runs, steps=len(steps), span_s=span)
