"""The scenarios of issue 8, by name, in the order they run; each returns one Table."""

from __future__ import annotations

from collections.abc import Callable

from bench.report import Table
from bench.scenarios import (
    api,
    calibration,
    chain,
    human,
    memory,
    pickup,
    scale,
    throughput,
    wait,
    webhooks,
)
from bench.scenarios.common import Options

Scenario = Callable[[Options], Table]

SCENARIOS: dict[str, Scenario] = {
    "calibration": calibration.run,
    "pickup": pickup.run,
    "throughput": throughput.run,
    "chain": chain.run,
    "api": api.run,
    "wait": wait.run,
    "webhooks": webhooks.run,
    "human": human.run,
    "scale": scale.run,
    "memory": memory.run,
}

__all__ = ["SCENARIOS", "Options", "Scenario"]
