"""In-process wake-ups: a commit that made work ready pokes the executor or dispatcher at once.

Repositories mark a session (`mark(session, "steps")`); after that session commits, every
listener registered for the topic runs. The interval poll remains the safety net, and across
processes PostgreSQL's LISTEN/NOTIFY carries the same topics.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable

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


# Names this process in its NOTIFY payloads, so that its own listener skips what the commit
# already woke in-process. A forked worker process gets a token of its own.
_sender = uuid.uuid4().hex
os.register_at_fork(after_in_child=lambda: globals().update(_sender=uuid.uuid4().hex))


def notify_payload(topics: Iterable[str]) -> str:
    """`<sender>:<topic>,<topic>`: every topic of a commit in one notification."""
    return f"{_sender}:{','.join(sorted(topics))}"


def topics_from_others(payload: str) -> list[str]:
    """The known topics of another process's notification (none of this process's own); a
    bare topic, as older versions sent, counts as another's."""
    sender, _, named = payload.rpartition(":")
    if sender == _sender:
        return []
    return [topic for topic in named.split(",") if topic in TOPICS]


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # On PostgreSQL the wake-up also crosses processes: NOTIFY is delivered at commit, and
    # only if the transaction commits (see app/pg_listener.py for the listening side).
    topics = session.info.get("wake")
    bind = session.get_bind()
    if topics and bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": PG_CHANNEL, "payload": notify_payload(topics)})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop("wake", None)
    for topic in topics or ():
        notify(topic)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("wake", None)
