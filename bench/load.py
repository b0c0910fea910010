"""The open-loop load generator: requests leave on a fixed schedule whatever the server does.

Request i is due at `start + i / rate`. Its latency runs from that scheduled time, not from
the moment a client became free, so a server that falls behind is charged for the queue it
causes (no coordinated omission). At most `clients` requests are in flight at once (one
connection each); a request due while every client is busy waits, and that wait counts too.
Requests not sent or not answered by the deadline (twice the schedule, at least the grace
after its end) count as timed out, with the time they were given as their latency.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.http import ConnectionPool, Reply, Request

# After the last request is due, wait this long (at least) for the stragglers.
DEFAULT_GRACE_S = 15.0
TIMED_OUT = -1
FAILED = 0


@dataclass(frozen=True)
class Sample:
    index: int
    scheduled_wall: float  # time.time() of the scheduled send
    latency_s: float  # scheduled send → whole answer read; the deadline for a timed-out one
    status: int  # HTTP status, FAILED (connection error) or TIMED_OUT
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class LoadResult:
    offered_rate: float
    samples: list[Sample] = field(default_factory=list)
    window_s: float = 0.0  # first scheduled send → last answer

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s.ok)

    def error_summary(self) -> str:
        """`none`, or counts by kind: `12 timed out, 3 x HTTP 500, 1 connection error`."""
        kinds = Counter(s.status for s in self.samples if not s.ok)
        if not kinds:
            return "no errors"
        names = {TIMED_OUT: "timed out", FAILED: "connection errors"}
        return ", ".join(f"{n} {names[status]}" if status in names else f"{n} x HTTP {status}"
                         for status, n in kinds.most_common())

    @property
    def achieved_rate(self) -> float:
        return len(self.ok) / self.window_s if self.window_s > 0 else 0.0

    def latencies(self) -> list[float]:
        """Every request's latency; a timed-out one counts as the time it was given."""
        return [s.latency_s for s in self.samples if s.ok or s.status == TIMED_OUT]


async def _open_loop(pool: ConnectionPool, make: Callable[[int], Request], rate: float,
                     count: int, grace_s: float) -> LoadResult:
    """`pool.size` clients take the schedule's requests in order (wrk2's model): a client
    sleeps until its request is due, or sends at once when it is already late."""
    start = time.perf_counter()
    wall0 = time.time()
    schedule_end = start + (count - 1) / rate
    deadline = max(schedule_end + grace_s, start + 2 * (schedule_end - start))
    samples: list[Sample | None] = [None] * count
    next_index = 0
    last_done = start

    async def client() -> None:
        nonlocal next_index, last_done
        while next_index < count:
            index, next_index = next_index, next_index + 1
            due = start + index / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if time.perf_counter() >= deadline:
                return
            try:
                reply: Reply = await pool.send(make(index))
                status, body = reply.status, reply.body
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, body = FAILED, b""
            done = time.perf_counter()
            last_done = max(last_done, done)
            samples[index] = Sample(index, wall0 + (due - start), done - due, status, body)

    clients = [asyncio.create_task(client()) for _ in range(pool.size)]
    await asyncio.wait(clients, timeout=max(0.0, deadline - time.perf_counter()))
    for task in clients:
        task.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    for index, sample in enumerate(samples):
        if sample is None:
            due = start + index / rate
            samples[index] = Sample(index, wall0 + (due - start), deadline - due, TIMED_OUT)
    result = LoadResult(offered_rate=rate)
    result.samples = [s for s in samples if s is not None]
    result.window_s = last_done - start
    return result


def open_loop(port: int, make: Callable[[int], Request], *, rate: float, count: int,
              clients: int = 50, headers: dict[str, str] | None = None,
              grace_s: float = DEFAULT_GRACE_S) -> LoadResult:
    """Send `count` requests to 127.0.0.1:`port` at `rate` per second from `clients` clients."""

    async def main() -> LoadResult:
        pool = ConnectionPool("127.0.0.1", port, clients, headers or {})
        try:
            return await _open_loop(pool, make, rate, count, grace_s)
        finally:
            await pool.close()

    return asyncio.run(main())


async def _closed_loop(pool: ConnectionPool, make: Callable[[int], Request],
                       count: int) -> LoadResult:
    """`pool.size` clients each send their next request as soon as the last was answered."""
    start = time.perf_counter()
    wall0 = time.time()
    samples: list[Sample] = []
    next_index = 0
    last_done = start

    async def client() -> None:
        nonlocal next_index, last_done
        while next_index < count:
            index, next_index = next_index, next_index + 1
            sent = time.perf_counter()
            try:
                reply: Reply = await pool.send(make(index))
                status, body = reply.status, reply.body
            except (OSError, asyncio.IncompleteReadError, ValueError):
                status, body = FAILED, b""
            done = time.perf_counter()
            last_done = max(last_done, done)
            samples.append(Sample(index, wall0 + (sent - start), done - sent, status, body))

    await asyncio.gather(*(client() for _ in range(pool.size)))
    result = LoadResult(offered_rate=0.0)
    result.samples = sorted(samples, key=lambda s: s.index)
    result.window_s = last_done - start
    return result


def closed_loop(port: int, make: Callable[[int], Request], *, count: int, clients: int,
                headers: dict[str, str] | None = None) -> LoadResult:
    """`count` requests from `clients` clients, each waiting for its answer before sending
    again (how run-and-wait callers behave): the rate is whatever the server gives."""

    async def main() -> LoadResult:
        pool = ConnectionPool("127.0.0.1", port, clients, headers or {})
        try:
            return await _closed_loop(pool, make, count)
        finally:
            await pool.close()

    return asyncio.run(main())
