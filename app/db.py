"""Engines and session scopes; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 30_000

log = logging.getLogger(__name__)

_lock = threading.Lock()


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=20,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Take transaction control away from pysqlite so BEGIN is ours (SQLAlchemy's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    if not immediate:
        @event.listens_for(engine, "begin")
        def _on_begin(connection):  # type: ignore[no-untyped-def]
            # On the driver itself: a deferred BEGIN takes no lock and cannot wait, and
            # SQLAlchemy's execution path cost more than the read it opens (every GET has one).
            connection.connection.driver_connection.execute("BEGIN")

        return engine

    # A write transaction takes the write lock up front: a deferred one that later upgrades
    # fails at once with SQLITE_BUSY in WAL mode instead of waiting for busy_timeout.
    turns = WriterTurns(timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "begin")
    def _on_begin_immediate(connection):  # type: ignore[no-untyped-def]
        raw = connection.connection.dbapi_connection
        turns.acquire(raw)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turns.release(raw)
            raise

    dialect = engine.dialect
    plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection):  # type: ignore[no-untyped-def]
        try:
            plain_commit(dbapi_connection)
        finally:
            turns.release(dbapi_connection)

    def do_rollback(dbapi_connection):  # type: ignore[no-untyped-def]
        try:
            plain_rollback(dbapi_connection)
        finally:
            turns.release(dbapi_connection)

    # Released right after COMMIT/ROLLBACK returns (a release before it would send the next
    # writer into SQLite's sleep-and-poll); the pool's events are the safety net for a
    # connection that leaves without either.
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    for name in ("checkin", "invalidate", "soft_invalidate", "close", "close_detached"):
        event.listen(engine, name, lambda dbapi_connection, *_: turns.release(dbapi_connection))
    return engine


class WriterTurns:
    """SQLite allows one writer at a time, and its busy handler makes the others sleep and
    poll: with many threads the waits grow into a convoy. Writers of one engine take turns
    here instead, from BEGIN IMMEDIATE to COMMIT or ROLLBACK.

    A turn belongs to a connection, not a thread: FastAPI may end a dependency's transaction
    on another thread than the one that began it. A thread that begins a second write
    transaction while its first is open goes straight to SQLite (whose busy timeout decides,
    as without this queue), and a turn never waits longer than that timeout.
    """

    def __init__(self, *, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        # A plain lock, not an RLock: any thread may release it.
        self._lock = threading.Lock()
        self._holder: int | None = None
        self._holder_thread: int | None = None

    def acquire(self, dbapi_connection: object) -> None:
        me = threading.get_ident()
        if self._holder_thread == me:
            return  # nested in this thread: waiting here would wait on ourselves
        if not self._lock.acquire(timeout=self.timeout_s):
            log.warning("SQLite writer turn not free after %.0f s; going to SQLite's own busy "
                        "handler", self.timeout_s)
            return
        self._holder, self._holder_thread = _raw_id(dbapi_connection), me

    def release(self, dbapi_connection: object) -> None:
        # Only the holder's connection matches, and it is used by one thread at a time.
        if self._holder is not None and self._holder == _raw_id(dbapi_connection):
            self._holder = self._holder_thread = None
            self._lock.release()


def _raw_id(dbapi_connection: object) -> int:
    # The pool hands its reset a proxy ("fairy") of the DBAPI connection, the dialect the raw one.
    return id(getattr(dbapi_connection, "dbapi_connection", None) or dbapi_connection)


def _server_engine(url: str) -> Engine:
    settings = get_settings()
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


_ENGINES: dict[str, tuple[Engine, Engine]] = {}


def _engines(url: str) -> tuple[Engine, Engine]:
    """(write engine, read engine) for a URL; the same engine twice on a server database."""
    with _lock:
        pair = _ENGINES.get(url)
        if pair is None:
            if url.startswith("sqlite"):
                pair = (_sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False))
            else:
                engine = _server_engine(url)
                pair = (engine, engine)
            _ENGINES[url] = pair
    return pair


def get_engine(*, write: bool = True) -> Engine:
    write_engine, read_engine = _engines(get_settings().database_url)
    return write_engine if write else read_engine


def is_sqlite() -> bool:
    return get_engine().dialect.name == "sqlite"


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests, shutdown, after fork)."""
    with _lock:
        for write_engine, read_engine in _ENGINES.values():
            write_engine.dispose()
            read_engine.dispose()
        _ENGINES.clear()


def write_session_unopened() -> Session:
    """A write session for a caller that closes it itself (the API's route dependency)."""
    return Session(get_engine(write=True), expire_on_commit=False)


def read_session_unopened() -> Session:
    """A read session for a caller that closes it itself (the API's route dependency)."""
    return Session(get_engine(write=False), expire_on_commit=False)


@contextlib.contextmanager
def write_session() -> Iterator[Session]:
    """A session for a use case that writes; the caller (a service) commits."""
    with write_session_unopened() as session:
        yield session


@contextlib.contextmanager
def read_session() -> Iterator[Session]:
    """A session for reads only; never blocks writers on SQLite."""
    with read_session_unopened() as session:
        yield session
