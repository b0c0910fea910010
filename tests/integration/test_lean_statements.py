"""Hot writes sent as the driver's own SQL (app/repo/lean.py) store exactly what SQLAlchemy's
`execute` stores, count the rows they change across an executemany, and raise SQLAlchemy's
errors, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from app.clock import utcnow
from app.db import read_session, write_session
from app.models import Event, new_id
from app.repo.lean import LeanStatement, sqlite_utc_text
from tests.support import World

INSERT = LeanStatement(insert(Event), keys=list(Event.model_fields))
TAKE = LeanStatement(
    update(Event)
    .where(col(Event.id) == bindparam("b_id"), col(Event.error_pending).is_(True))
    .values(error_pending=False, fanned_out_at=bindparam("b_now")))


def _row(world: World, **changes: Any) -> dict[str, Any]:
    now = utcnow()
    row = {"id": new_id("evt"), "workspace_id": world.workspace_id, "type": "run.flagged",
           "run_id": "run_x", "workflow_id": None, "created_at": now, "fanned_out_at": None,
           "mail_pending": False, "error_pending": True,
           "payload": {"text": "naïve ✓ 'quoted' %s", "n": 1.5, "none": None, "list": [1]}}
    return {**row, **changes}


def _stored(event_id: str) -> dict[str, Any]:
    with read_session() as session:
        event = session.exec(select(Event).where(col(Event.id) == event_id)).one()
        return event.model_dump(exclude={"id"})


def test_a_row_is_stored_as_sqlalchemy_stores_it(world: World) -> None:
    lean, plain = _row(world), _row(world)
    plain["created_at"] = lean["created_at"]
    with write_session() as session:
        assert INSERT.execute(session.connection(), [lean]) == 1
        session.connection().execute(insert(Event), [plain])
        session.commit()
    assert _stored(lean["id"]) == _stored(plain["id"])
    assert _stored(lean["id"])["payload"]["text"] == "naïve ✓ 'quoted' %s"


def test_an_executemany_counts_only_the_rows_its_guard_let_through(world: World) -> None:
    rows = [_row(world) for _ in range(3)]
    with write_session() as session:
        INSERT.execute(session.connection(), rows)
        session.commit()
    later = utcnow() + timedelta(seconds=5)
    with write_session() as session:
        taken = TAKE.execute(session.connection(), [{"b_id": rows[0]["id"], "b_now": later}])
        session.commit()
    assert taken == 1
    with write_session() as session:  # the first is no longer flagged: two of three
        taken = TAKE.execute(session.connection(),
                             [{"b_id": row["id"], "b_now": later} for row in rows])
        session.commit()
    assert taken == 2
    assert not _stored(rows[2]["id"])["error_pending"]
    with write_session() as session:
        assert INSERT.execute(session.connection(), []) == 0


def test_a_duplicate_raises_sqlalchemy_s_integrity_error(world: World) -> None:
    row = _row(world)
    with write_session() as session:
        INSERT.execute(session.connection(), [row])
        with pytest.raises(IntegrityError):
            INSERT.execute(session.connection(), [row])


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 7, 16, 5, 3, 123456, tzinfo=UTC),
    datetime(2026, 12, 7, 16, 5, 3, tzinfo=UTC),  # no microseconds: still six digits
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
    None,
])
def test_sqlite_datetimes_are_the_text_sqlalchemy_writes(value: datetime | None) -> None:
    compiled = insert(Event).compile(dialect=sqlite.dialect(), column_keys=["created_at"])
    assert isinstance(Event.__table__.c.created_at.type, UTCDateTime)  # type: ignore[attr-defined]
    plain = compiled._bind_processors["created_at"]
    assert sqlite_utc_text(value) == plain(value)


def test_a_naive_datetime_is_refused_as_sqlalchemy_refuses_it() -> None:
    with pytest.raises(ValueError, match="timezone"):
        sqlite_utc_text(datetime(2026, 12, 7))
