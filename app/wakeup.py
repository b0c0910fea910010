"""In-process wake-ups: a commit that made work ready pokes the executor or dispatcher at once.

Repositories mark a session (`mark(session, "steps")`); after that session commits, every
listener registered for the topic runs. The interval poll remains the safety net, and across
processes PostgreSQL's LISTEN/NOTIFY carries the same topics.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event, text
from sqlmodel import Session

log = logging.getLogger(__name__)

STEPS = "steps"
EVENTS = "events"
APPROVALS = "approvals"
TOPICS = (STEPS, EVENTS, APPROVALS)
PG_CHANNEL = "flowdesk_wakeup"

_listeners: dict[str, list[Callable[[], None]]] = {}
_lock = threading.Lock()


def mark(session: Session, topic: str) -> None:
    session.info.setdefault("wake", set()).add(topic)


def subscribe(topic: str, callback: Callable[[], None]) -> Callable[[], None]:
    """Register a callback; returns a function that unregisters it."""
    with _lock:
        _listeners.setdefault(topic, []).append(callback)

    def unsubscribe() -> None:
        with _lock:
            if callback in _listeners.get(topic, []):
                _listeners[topic].remove(callback)

    return unsubscribe


def notify(topic: str) -> None:
    with _lock:
        callbacks = list(_listeners.get(topic, ()))
    for callback in callbacks:
        try:
            callback()
        except Exception:  # a listener's failure must not fail the committed use case
            log.exception("wake-up listener for %s failed", topic)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # On PostgreSQL the wake-up also crosses processes: NOTIFY is delivered at commit, and
    # only if the transaction commits (see app/pg_listener.py for the listening side).
    topics = session.info.get("wake")
    bind = session.get_bind()
    if topics and bind.dialect.name == "postgresql":
        for topic in sorted(topics):
            session.execute(text("SELECT pg_notify(:channel, :topic)"),
                            {"channel": PG_CHANNEL, "topic": topic})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop("wake", None)
    for topic in topics or ():
        notify(topic)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("wake", None)
