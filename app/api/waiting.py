"""Run-and-wait: answer once a run leaves IN_PROGRESS (completes, blocks, flags, is cancelled)
or the wait elapses.

A waiter watches its own run (app/settled.py): the commit that settles that run wakes it,
in this process at once and from other processes through PostgreSQL's wake-up
notification; commits of other runs do not. Waiting holds no thread and no transaction: the
request awaits an asyncio event. A wake-up naming its run is the answer (the run settled):
the run's status (one column, in the thread pool) is read only when that is not known: at
the start if the run has not settled since the waiter's write began, on a wake-up that names
no run (a listener reconnecting), and on a slow safety poll for wake-ups that cannot reach
it (a worker process on SQLite, a dropped listener connection).
"""

from __future__ import annotations

import asyncio
import time

from starlette.concurrency import run_in_threadpool

from app import pg_listener, settled
from app.db import read_session
from app.models import RunStatus
from app.repo import runs as runs_repo
from app.settings import get_settings

MAX_WAIT_S = 30.0
# The safety poll starts at FIRST_POLL_S and doubles up to SAFETY_POLL_S: a run settled where
# no wake-up reaches this process is still seen within about half a second, while a waiter
# that is woken in time reads its run once or twice.
FIRST_POLL_S = 0.05
SAFETY_POLL_S = 0.5

_listening = False


def _status(run_id: str) -> str | None:
    with read_session() as session:
        return runs_repo.status_of(session, run_id)


def _listen_across_processes() -> None:
    """On PostgreSQL, keep this process's wake-up listener running (the background jobs may
    be off here: `RUN_SCHEDULER=false` web processes)."""
    global _listening
    if _listening:
        return
    settings = get_settings()
    if not settings.is_sqlite:
        pg_listener.acquire(settings.database_url)
    _listening = True


async def wait_until_settled(run_id: str, wait_s: float, *,
                             since: float | None = None) -> bool:
    """Wait up to `wait_s` (at most MAX_WAIT_S) for the run to leave IN_PROGRESS; True when
    it did (or does not exist), False when the wait elapsed first.

    `since` (a time.monotonic() reading taken before the caller's write that left the run
    IN_PROGRESS began): a settle this process learnt of after it needs no read of the run.
    """
    if wait_s <= 0:
        return await run_in_threadpool(_status, run_id) != RunStatus.IN_PROGRESS
    _listen_across_processes()
    deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
    since = time.monotonic() if since is None else since
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:
        loop.call_soon_threadsafe(woken.set)

    unwatch = settled.watch(run_id, wake)  # before the first check: no settle slips between
    poll = FIRST_POLL_S
    try:
        while not settled.settled_since(run_id, since):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                await asyncio.wait_for(woken.wait(), timeout=min(poll, left))
                woken.clear()
                if settled.settled_since(run_id, since):
                    return True
                # Woken without its run named (a listener that reconnected): read it.
            except TimeoutError:
                poll = min(poll * 2, SAFETY_POLL_S)  # the safety poll: read it
            if await run_in_threadpool(_status, run_id) != RunStatus.IN_PROGRESS:
                return True
        return True
    finally:
        unwatch()
