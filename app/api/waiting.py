"""Run-and-wait: answer once a run leaves IN_PROGRESS (completes, blocks, flags) or the wait
elapses. Polls the database off the event loop, woken early by commits in this process; no
transaction is held while waiting."""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool

from app import wakeup
from app.db import read_session
from app.models import RunStatus
from app.repo import runs as runs_repo

MAX_WAIT_S = 30.0
POLL_S = 0.05


def _status(run_id: str) -> str | None:
    with read_session() as session:
        run = runs_repo.get_run(session, run_id)
        return run.status if run else None


async def wait_until_settled(run_id: str, wait_s: float) -> None:
    if wait_s <= 0:
        return
    deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(woken.set)

    unsubscribe = wakeup.subscribe(wakeup.EVENTS, wake)
    try:
        while True:
            woken.clear()
            if await run_in_threadpool(_status, run_id) != RunStatus.IN_PROGRESS:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(woken.wait(), timeout=min(POLL_S, left))
            except TimeoutError:
                pass
    finally:
        unsubscribe()
