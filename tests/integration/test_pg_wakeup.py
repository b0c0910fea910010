"""PostgreSQL carries wake-ups across processes: NOTIFY on commit, LISTEN in each process."""

from __future__ import annotations

import threading

import psycopg
import pytest

from app import pg_listener, settled, wakeup
from app.db import write_session
from app.pg_listener import PgListener
from app.repo import events
from tests.support import World

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_db: str) -> str:
    return postgres_db


@pytest.fixture
def pg_world(pg: str) -> World:
    return World.create()


def test_a_commit_that_emits_events_notifies_other_connections(pg: str, pg_world: World) -> None:
    listener = psycopg.connect(pg.replace("+psycopg", ""), autocommit=True)
    listener.execute(f"LISTEN {wakeup.PG_CHANNEL}")
    with write_session() as session:
        events.emit(session, type="run.started", workspace_id=pg_world.workspace_id, data={})
        session.commit()
    payloads = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
    listener.close()
    assert len(payloads) == 1
    sender, _, topics = payloads[0].rpartition(":")
    assert sender and topics == wakeup.EVENTS


def test_one_commit_sends_one_notification_naming_all_its_topics(pg: str) -> None:
    from sqlmodel import Session

    listener = psycopg.connect(pg.replace("+psycopg", ""), autocommit=True)
    listener.execute(f"LISTEN {wakeup.PG_CHANNEL}")
    with write_session() as session:
        assert isinstance(session, Session)
        wakeup.mark(session, wakeup.STEPS)
        wakeup.mark(session, wakeup.EVENTS)
        session.commit()
    payloads = [n.payload for n in listener.notifies(timeout=1, stop_after=2)]
    listener.close()
    assert [p.rpartition(":")[2] for p in payloads] == ["events,steps"]


def test_a_process_skips_its_own_notifications_but_not_others() -> None:
    own = wakeup.notify_payload([wakeup.STEPS, wakeup.EVENTS])
    assert wakeup.topics_from_others(own) == []
    assert wakeup.topics_from_others("another-process:steps,events,bogus") == ["steps", "events"]
    assert wakeup.topics_from_others(wakeup.APPROVALS) == [wakeup.APPROVALS]  # older senders


def test_listener_wakes_local_subscribers_when_another_process_notifies(pg: str) -> None:
    woke = threading.Event()
    unsubscribe = wakeup.subscribe(wakeup.STEPS, woke.set)
    listener = PgListener(pg)
    listener.start()
    try:
        woke.wait(3)  # the listener announces every topic once it is connected
        woke.clear()
        with psycopg.connect(pg.replace("+psycopg", ""), autocommit=True) as other:
            other.execute("SELECT pg_notify(%s, %s)", (wakeup.PG_CHANNEL, wakeup.STEPS))
        assert woke.wait(3)
    finally:
        listener.stop()
        unsubscribe()


def test_a_rolled_back_transaction_notifies_nobody(pg: str, pg_world: World) -> None:
    listener = psycopg.connect(pg.replace("+psycopg", ""), autocommit=True)
    listener.execute(f"LISTEN {wakeup.PG_CHANNEL}")
    with write_session() as session:
        events.emit(session, type="run.started", workspace_id=pg_world.workspace_id, data={})
        session.rollback()
    assert list(listener.notifies(timeout=0.5, stop_after=1)) == []
    listener.close()


QUICK = {"start": "hello", "steps": {"hello": {"kind": "tool", "tool": "echo",
                                               "args": {"hello": "world"}, "done": True}}}


def test_the_commit_that_settles_a_run_names_it_to_other_processes(pg: str,
                                                                    pg_world: World) -> None:
    run_id = pg_world.trigger(pg_world.publish(QUICK))
    listener = psycopg.connect(pg.replace("+psycopg", ""), autocommit=True)
    listener.execute(f"LISTEN {wakeup.PG_CHANNEL}")
    pg_world.drain()
    payloads = [n.payload for n in listener.notifies(timeout=1, stop_after=5)]
    listener.close()
    other = ["another:" + p.partition(":")[2] for p in payloads]
    assert [run_id] in [wakeup.settled_from_others(p) for p in other]


def test_a_run_settled_in_another_process_wakes_its_waiter_here(pg: str) -> None:
    woke = threading.Event()
    unwatch = settled.watch("run_from_elsewhere", woke.set)
    pg_listener.acquire(pg)
    try:
        woke.wait(3)  # the listener wakes every waiter once it is connected
        woke.clear()
        with psycopg.connect(pg.replace("+psycopg", ""), autocommit=True) as other:
            other.execute("SELECT pg_notify(%s, %s)",
                          (wakeup.PG_CHANNEL, "another-process:events|run_unrelated"))
            assert not woke.wait(0.3)
            other.execute("SELECT pg_notify(%s, %s)",
                          (wakeup.PG_CHANNEL, "another-process:events|run_from_elsewhere"))
        assert woke.wait(3)
    finally:
        pg_listener.release()
        unwatch()
