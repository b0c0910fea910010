"""Cross-process wake-ups on PostgreSQL: LISTEN for the topics other processes NOTIFY.

A commit that makes steps ready, writes events or settles runs sends `pg_notify` in its own
transaction (app/wakeup.py); a process listens here and wakes its executor or dispatcher, and
the run-and-wait requests of the runs named, at once. One listener (one connection) per
process, shared by whoever needs it (`acquire`/`release`): the background jobs and the API's
waiters. The interval poll stays the safety net if the connection drops.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from app import settled, wakeup

log = logging.getLogger(__name__)

RECONNECT_MAX_S = 30.0
WAIT_S = 1.0


def _libpq_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class PgListener:
    def __init__(self, database_url: str) -> None:
        self.url = _libpq_url(database_url)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pg-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WAIT_S * 3)

    def _loop(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {wakeup.PG_CHANNEL}")
                    delay = 1.0
                    # Work may have been committed while we were not listening.
                    for topic in wakeup.TOPICS:
                        wakeup.notify(topic)
                    settled.notify([settled.ANY_RUN])
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=WAIT_S):
                            for topic in wakeup.topics_from_others(note.payload):
                                wakeup.notify(topic)
                            run_ids = wakeup.settled_from_others(note.payload)
                            if run_ids:
                                settled.notify(run_ids)
            except psycopg.Error as exc:
                log.warning("wake-up listener lost its connection (%s); retrying in %.0f s",
                            exc.__class__.__name__, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, RECONNECT_MAX_S)


_shared: PgListener | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire(database_url: str) -> None:
    """Start this process's listener if it is not running; pair with release()."""
    global _shared, _users
    with _shared_lock:
        _users += 1
        if _shared is None:
            _shared = PgListener(database_url)
            _shared.start()


def release() -> None:
    """Stop the listener once its last user released it."""
    global _shared, _users
    with _shared_lock:
        _users = max(0, _users - 1)
        listener = _shared if _users == 0 else None
        if listener is not None:
            _shared = None
    if listener is not None:
        listener.stop()
