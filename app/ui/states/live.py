"""Helpers for live pages: one watcher per (tab, page) and commit-time wake-ups.

A page's `on_load` starts a background event that reloads its data in a loop. Reflex cancels
on_load chains when the tab navigates, but a new watcher may start before the old one is gone,
so each start takes a new generation and older loops stop when they see a newer one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable
from types import TracebackType

from app import wakeup

# Commits that change runs, steps and approvals mark these topics (repo/steps, repo/events).
RUN_TOPICS = (wakeup.STEPS, wakeup.EVENTS, wakeup.APPROVALS)
APPROVAL_TOPICS = (wakeup.APPROVALS,)
POLL_S = 1.0  # the safety net (other processes' commits do not wake us)
# Under a busy executor commits arrive many times a second: a watcher reloads at most this
# often, so open tabs never turn the commit rate into a query rate.
MIN_GAP_S = 0.3

_counter = itertools.count(1)
_current: dict[tuple[str, str], int] = {}


def begin(token: str, name: str) -> int:
    """Register a new watcher for this tab and page; returns its generation."""
    generation = next(_counter)
    _current[(token, name)] = generation
    return generation


def is_current(token: str, name: str, generation: int) -> bool:
    return _current.get((token, name)) == generation


def end(token: str, name: str, generation: int) -> None:
    if _current.get((token, name)) == generation:
        del _current[(token, name)]


class Waker:
    """Sleep until a commit in this process marks one of the topics, or the poll interval."""

    def __init__(self, topics: Iterable[str] = RUN_TOPICS, min_gap_s: float = MIN_GAP_S) -> None:
        self._topics = tuple(topics)
        self._event = asyncio.Event()
        self._unsubscribe: list = []
        self._min_gap_s = min_gap_s
        self._last = 0.0

    def _poke(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon_threadsafe(self._event.set)

    async def __aenter__(self) -> Waker:
        loop = asyncio.get_running_loop()
        self._unsubscribe = [wakeup.subscribe(t, lambda: self._poke(loop)) for t in self._topics]
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()

    async def wait(self, timeout_s: float = POLL_S) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout_s)
        except TimeoutError:
            pass
        since = time.monotonic() - self._last
        if since < self._min_gap_s:
            await asyncio.sleep(self._min_gap_s - since)
        self._event.clear()
        self._last = time.monotonic()
