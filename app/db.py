"""Engines and session scopes; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from app.settings import get_settings

SQLITE_BUSY_TIMEOUT_MS = 30_000

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

    # A write transaction takes the write lock up front: a deferred one that later upgrades
    # fails at once with SQLITE_BUSY in WAL mode instead of waiting for busy_timeout.
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql(begin)

    return engine


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


# SQLite allows one writer at a time, and its busy handler makes the others sleep and poll:
# with many threads the waits grow into a convoy. Writers of this process queue on a lock
# instead (re-entrant, so a nested session behaves as before: SQLite's own busy timeout).
_SQLITE_WRITERS = threading.RLock()


@contextlib.contextmanager
def write_session() -> Iterator[Session]:
    """A session for a use case that writes; the caller (a service) commits."""
    engine = get_engine(write=True)
    queue = _SQLITE_WRITERS if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    with queue, Session(engine, expire_on_commit=False) as session:
        yield session


@contextlib.contextmanager
def read_session() -> Iterator[Session]:
    """A session for reads only; never blocks writers on SQLite."""
    with Session(get_engine(write=False), expire_on_commit=False) as session:
        yield session
