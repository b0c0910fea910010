"""SQLite's writers of one process take turns: a turn runs from BEGIN IMMEDIATE to COMMIT or
ROLLBACK, and may end on another thread than the one that began it (as FastAPI ends a
dependency's session), without leaving the next writers stuck."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from app import db


def _count(session) -> int:  # type: ignore[no-untyped-def]
    return session.execute(text("SELECT COUNT(*) FROM workspace")).scalar_one()


def _insert(session, name: str) -> None:  # type: ignore[no-untyped-def]
    session.execute(text("INSERT INTO workspace (id, name, created_at) "
                         "VALUES (:id, :id, CURRENT_TIMESTAMP)"), {"id": name})


def test_a_transaction_begun_in_one_thread_may_end_in_another(sqlite_db: str) -> None:
    with ThreadPoolExecutor(1) as opener, ThreadPoolExecutor(1) as closer:
        scope = db.write_session()
        session = opener.submit(scope.__enter__).result()
        opener.submit(_insert, session, "ws_first").result()
        # Another thread ends it, with an error, as FastAPI does for a failing route.
        error = ValueError("the route failed")
        closer.submit(scope.__exit__, ValueError, error, None).result()

    def write_and_commit(name: str) -> None:
        with db.write_session() as other:
            _insert(other, name)
            other.commit()

    worker = threading.Thread(target=write_and_commit, args=("ws_second",))
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "the next writer waited on a turn nobody held"
    with db.read_session() as session:
        names = set(session.execute(text("SELECT id FROM workspace")).scalars())
    assert "ws_second" in names and "ws_first" not in names


def test_a_second_writer_waits_for_the_first_to_commit(sqlite_db: str) -> None:
    order: list[str] = []
    first_began = threading.Event()

    def first() -> None:
        with db.write_session() as session:
            _insert(session, "ws_a")
            first_began.set()
            threading.Event().wait(0.2)
            order.append("first commits")
            session.commit()

    def second() -> None:
        first_began.wait(5)
        with db.write_session() as session:
            _insert(session, "ws_b")
            order.append("second writes")
            session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert order == ["first commits", "second writes"]


def test_many_writers_across_threads_all_commit(sqlite_db: str) -> None:
    def write(index: int) -> None:
        with db.write_session() as session:
            _insert(session, f"ws_{index}")
            if index % 3 == 0:
                session.rollback()
            else:
                session.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(60)))
    with db.read_session() as session:
        assert _count(session) == len([i for i in range(60) if i % 3])
