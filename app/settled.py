"""Per-run wake-ups for run-and-wait: a waiter watches its own run, and only the commit that
settles that run (leaves it IN_PROGRESS: completed, blocked, flagged, cancelled) wakes it.

The engine marks a session with the run ids it settles (`wakeup.mark_settled`); after the
commit, `notify(run_ids)` calls the watchers of exactly those runs. Across processes the
same ids travel in the PostgreSQL wake-up notification (app/wakeup.py, app/pg_listener.py);
a notification too long to carry them all says `ANY_RUN`, which wakes every watcher once.
The cost of a commit is therefore one dictionary lookup per settled run, whatever the number
of waiters, instead of waking every waiter on every commit.

The ids settled in the last few seconds are also remembered with when they settled
(`settled_since`): a waiter that begins watching after its run settled (a run can finish in
the moment between its trigger's commit and the watch) learns it without reading the run,
and one that is woken knows its run settled, so it need not read the status either.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

ANY_RUN = "*"

# How long, and how many, settled run ids are remembered (a waiter starts watching within
# moments of its trigger's or decision's commit).
RECENT_S = 5.0
RECENT_MAX = 10_000

_watchers: dict[str, list[Callable[[], None]]] = {}
_recent: dict[str, float] = {}  # run id -> time.monotonic() of its last settle, oldest first
_lock = threading.Lock()


def settled_since(run_id: str, since: float) -> bool:
    """Whether `run_id` settled (in a commit this process learnt of) at or after `since`, a
    time.monotonic() reading; False when that is older than RECENT_S."""
    with _lock:
        return _recent.get(run_id, -1.0) >= since


def watch(run_id: str, callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (from the committing thread) when `run_id` settles; returns the
    function that stops watching. Watch before reading the run's status, so that a settle
    between the read and the wait is not missed."""
    with _lock:
        _watchers.setdefault(run_id, []).append(callback)

    def unwatch() -> None:
        with _lock:
            callbacks = _watchers.get(run_id)
            if callbacks and callback in callbacks:
                callbacks.remove(callback)
                if not callbacks:
                    del _watchers[run_id]

    return unwatch


def notify(run_ids: Iterable[str]) -> None:
    ids = set(run_ids)
    now = time.monotonic()
    with _lock:
        for run_id in ids - {ANY_RUN}:
            _recent.pop(run_id, None)  # re-inserted last: the dict stays oldest first
            _recent[run_id] = now
        _forget_old(now)
        if not _watchers:
            return
        if ANY_RUN in ids:
            callbacks = [cb for cbs in _watchers.values() for cb in cbs]
        else:
            callbacks = [cb for run_id in ids for cb in _watchers.get(run_id, ())]
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a waiter's failure must not fail the committed use case
            log.exception("run-settled watcher failed")


def _forget_old(now: float) -> None:
    while _recent:
        oldest, at = next(iter(_recent.items()))
        if now - at <= RECENT_S and len(_recent) <= RECENT_MAX:
            return
        del _recent[oldest]


def watched() -> int:
    """How many runs have a watcher (for tests and diagnostics)."""
    with _lock:
        return len(_watchers)
