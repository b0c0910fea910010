"""In-process wake-ups: a commit that made work ready pokes the executor or dispatcher at once.

Repositories mark a session (`mark(session, "steps")`); after that session commits, every
listener registered for the topic runs. The engine also marks the runs a commit settles
(`mark_settled`), which wakes only those runs' waiters (app/settled.py). The interval poll
remains the safety net, and across processes PostgreSQL's LISTEN/NOTIFY carries the same
topics and run ids.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable

from sqlalchemy import event, text
from sqlmodel import Session

from app import settled

log = logging.getLogger(__name__)

STEPS = "steps"
EVENTS = "events"
APPROVALS = "approvals"
MAIL = "mail"  # events that send email were committed
FLAGGED = "flagged"  # a run was FLAGGED: its error workflow may be due
TOPICS = (STEPS, EVENTS, APPROVALS, MAIL, FLAGGED)
PG_CHANNEL = "flowdesk_wakeup"
# PostgreSQL refuses NOTIFY payloads of 8000 bytes or more: past this, the run ids are sent
# as settled.ANY_RUN (every waiter of every process looks once).
PAYLOAD_MAX = 7000

_listeners: dict[str, list[Callable[[], None]]] = {}
_lock = threading.Lock()


def mark(session: Session, topic: str) -> None:
    session.info.setdefault("wake", set()).add(topic)


def mark_settled(session: Session, run_id: str) -> None:
    """This session's commit moves `run_id` out of IN_PROGRESS: wake its waiters after it."""
    session.info.setdefault("settled", set()).add(run_id)


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


def notify_payload(topics: Iterable[str], run_ids: Iterable[str] = ()) -> str:
    """`<sender>:<topic>,<topic>|<run id>,<run id>`: every topic of a commit and the runs it
    settled, in one notification."""
    payload = f"{_sender}:{','.join(sorted(topics))}"
    ids = ",".join(sorted(run_ids))
    if not ids:
        return payload
    if len(payload) + 1 + len(ids) > PAYLOAD_MAX:
        ids = settled.ANY_RUN
    return f"{payload}|{ids}"


def _from_others(payload: str) -> tuple[str, list[str]] | None:
    head, _, _ids = payload.partition("|")
    sender, _, named = head.rpartition(":")
    if sender == _sender:
        return None
    return named, [topic for topic in named.split(",") if topic in TOPICS]


def topics_from_others(payload: str) -> list[str]:
    """The known topics of another process's notification (none of this process's own); a
    bare topic, as older versions sent, counts as another's."""
    parsed = _from_others(payload)
    return parsed[1] if parsed else []


def settled_from_others(payload: str) -> list[str]:
    """The run ids another process's notification says it settled (settled.ANY_RUN when it
    had too many to name); none for this process's own."""
    if _from_others(payload) is None:
        return []
    ids = payload.partition("|")[2]
    return [run_id for run_id in ids.split(",") if run_id]


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # On PostgreSQL the wake-up also crosses processes: NOTIFY is delivered at commit, and
    # only if the transaction commits (see app/pg_listener.py for the listening side).
    topics = session.info.get("wake")
    run_ids = session.info.get("settled")
    if not (topics or run_ids):
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :payload)"),
                        {"channel": PG_CHANNEL,
                         "payload": notify_payload(topics or (), run_ids or ())})


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop("wake", None)
    run_ids = session.info.pop("settled", None)
    for topic in topics or ():
        notify(topic)
    if run_ids:
        settled.notify(run_ids)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("wake", None)
    session.info.pop("settled", None)
