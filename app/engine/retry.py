"""Step retry backoff: exponential delay with tunable jitter, a pure function."""

from __future__ import annotations

import random
from collections.abc import Callable

# Beyond this exponent the delay is at max_s anyway; stops 2**attempt growing without bound.
_MAX_EXPONENT = 62


def backoff_delay_s(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    jitter: float = 1.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based).

    The ceiling is base_s * 2**(attempt - 1), capped at max_s. `jitter` is the fraction of
    it drawn at random: 1.0 is full jitter (0..ceiling), 0.5 equal jitter (ceiling/2..ceiling),
    0.0 none. Jitter spreads retries of many failed steps so they do not return in lockstep.
    Pass `rand` (returning [0, 1)) to make the result deterministic.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter is a fraction between 0 and 1")
    ceiling = min(max_s, base_s * 2.0 ** min(attempt - 1, _MAX_EXPONENT))
    return ceiling * (1.0 - jitter) + ceiling * jitter * rand()
