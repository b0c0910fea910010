"""Per-run wake-ups for run-and-wait: a waiter watches its own run, and only the commit that
settles that run (leaves it IN_PROGRESS: completed, blocked, flagged, cancelled) wakes it.

The engine marks a session with the run ids it settles (`wakeup.mark_settled`); after the
commit, `notify(run_ids)` calls the watchers of exactly those runs. Across processes the
same ids travel in the PostgreSQL wake-up notification (app/wakeup.py, app/pg_listener.py);
a notification too long to carry them all says `ANY_RUN`, which wakes every watcher once.
The cost of a commit is therefore one dictionary lookup per settled run, whatever the number
of waiters, instead of waking every waiter on every commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

ANY_RUN = "*"

_watchers: dict[str, list[Callable[[], None]]] = {}
_lock = threading.Lock()


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
    with _lock:
        if not _watchers:
            return
        ids = set(run_ids)
        if ANY_RUN in ids:
            callbacks = [cb for cbs in _watchers.values() for cb in cbs]
        else:
            callbacks = [cb for run_id in ids for cb in _watchers.get(run_id, ())]
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a waiter's failure must not fail the committed use case
            log.exception("run-settled watcher failed")


def watched() -> int:
    """How many runs have a watcher (for tests and diagnostics)."""
    with _lock:
        return len(_watchers)
