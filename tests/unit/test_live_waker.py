"""Live pages' wake-ups: a commit's topic wakes a watcher at once, but not more often than
the minimum gap; newer watchers of a tab replace older ones."""

from __future__ import annotations

import asyncio
import threading
import time

from app import wakeup
from app.ui.states import live


def test_a_commit_topic_wakes_the_watcher_before_the_poll_interval() -> None:
    async def scenario() -> float:
        async with live.Waker((wakeup.APPROVALS,), min_gap_s=0) as waker:
            threading.Timer(0.05, wakeup.notify, args=(wakeup.APPROVALS,)).start()
            started = time.monotonic()
            await waker.wait(timeout_s=5)
            return time.monotonic() - started

    assert asyncio.run(scenario()) < 1.0


def test_wake_ups_are_spaced_by_the_minimum_gap() -> None:
    async def scenario() -> float:
        async with live.Waker((wakeup.STEPS,), min_gap_s=0.3) as waker:
            await waker.wait(timeout_s=0)
            wakeup.notify(wakeup.STEPS)
            started = time.monotonic()
            await waker.wait(timeout_s=5)
            return time.monotonic() - started

    assert asyncio.run(scenario()) >= 0.25


def test_a_newer_watcher_of_the_same_tab_takes_over() -> None:
    first = live.begin("tab", "inbox")
    second = live.begin("tab", "inbox")
    assert not live.is_current("tab", "inbox", first)
    live.end("tab", "inbox", first)  # the old one's clean-up leaves the new one alone
    assert live.is_current("tab", "inbox", second)
    live.end("tab", "inbox", second)
    assert not live.is_current("tab", "inbox", second)
