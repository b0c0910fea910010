"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL where asked), a
workspace with an admin, helpers to publish workflows and run the executor inline."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlmodel import SQLModel

from app import db
from app.settings import reset_settings

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
PG_HOST_URL = PG_ADMIN_URL.rsplit("/", 1)[0]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-tests"


def _configure(monkeypatch: pytest.MonkeyPatch, data_dir: Path, url: str) -> None:
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("ALLOWED_NETWORKS", "127.0.0.0/8")
    db.dispose_engines()
    reset_settings()


def _migrate(url: str, data_dir: Path) -> None:
    saved = dict(os.environ)
    os.environ.update(DATABASE_URL=url, DATA_DIR=str(data_dir), SECRET_KEY=TEST_SECRET)
    reset_settings()
    try:
        from app.migrations import upgrade_to_head

        upgrade_to_head()
    finally:
        db.dispose_engines()
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "app.db"
    _migrate(f"sqlite:///{path}", folder)
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"fd_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_HOST_URL.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    _migrate(url, Path("/tmp"))
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    """Empty every table. DELETE in reverse dependency order: on the small tables of a test
    it is 15 times faster than TRUNCATE, whose cost is per table, not per row."""
    import app.models  # noqa: F401

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn, conn.transaction():
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(f'DELETE FROM "{table.name}"')


@pytest.fixture
def sqlite_db(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    path = tmp_path / "app.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    _configure(monkeypatch, tmp_path, url)
    yield url
    db.dispose_engines()
    reset_settings()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
             sqlite_template: Path) -> Iterator[str]:
    """The same test on SQLite and on the local PostgreSQL server."""
    if request.param == "sqlite":
        path = tmp_path / "app.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
        _truncate_pg(url)
    _configure(monkeypatch, tmp_path, url)
    yield url
    db.dispose_engines()
    reset_settings()


@pytest.fixture
def postgres_db(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """PostgreSQL only (a test of something SQLite does not have)."""
    _truncate_pg(pg_url)
    _configure(monkeypatch, tmp_path, pg_url)
    yield pg_url
    db.dispose_engines()
    reset_settings()


@pytest.fixture
def world(database: str) -> Any:
    """A workspace with an admin and an approver, and helpers (see tests/support.py)."""
    from tests.support import World

    return World.create()
