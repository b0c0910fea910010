"""Summaries of latency samples (median, p99, max) and rates; pure functions."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    """Latencies in seconds."""

    n: int
    median: float
    p99: float
    max: float


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100): a value that was actually observed."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(values: Sequence[float]) -> Summary:
    if not values:
        return Summary(0, math.nan, math.nan, math.nan)
    return Summary(len(values), statistics.median(values), percentile(values, 99), max(values))


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else math.nan
