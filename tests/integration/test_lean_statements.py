"""Hot writes sent as the driver's own SQL (app/repo/lean.py) store exactly what SQLAlchemy's
`execute` stores, count the rows they change across an executemany, and raise SQLAlchemy's
errors, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from app.clock import utcnow
from app.db import read_session, write_session
from app.models import Event, new_id
from app.repo.lean import LeanStatement
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
