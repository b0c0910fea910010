"""Shared column types, id generation and status vocabularies for every table."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

# JSON on SQLite, JSONB on PostgreSQL.
JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


_last = [0, 0]  # the millisecond and random part of this process's latest id
_id_lock = threading.Lock()


def new_id(prefix: str) -> str:
    """A time-ordered id (monotonic ULID layout): ids sort by creation time, which keeps
    cursors stable; two ids made in one millisecond by one process still sort in order."""
    with _id_lock:
        millis = int(time.time() * 1000)
        if millis <= _last[0]:
            millis, rand = _last[0], _last[1] + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        _last[0], _last[1] = millis, rand
    return f"{prefix}_{_base32(millis, 10)}{_base32(rand, 16)}"


def json_field(default_factory: Any = dict, *, nullable: bool = False) -> Any:
    return Field(default_factory=default_factory, sa_type=JSONType, nullable=nullable)


def id_field(prefix: str) -> Any:
    return Field(default_factory=lambda: new_id(prefix), primary_key=True, max_length=40)


def workspace_fk() -> Any:
    return Field(foreign_key="workspace.id", index=True, max_length=40)


class RunStatus:
    IN_PROGRESS = "IN_PROGRESS"
    BLOCKED = "BLOCKED"
    FLAGGED = "FLAGGED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    ALL = (IN_PROGRESS, BLOCKED, FLAGGED, COMPLETED, CANCELLED)
    ACTIVE = (IN_PROGRESS, BLOCKED, FLAGGED)
    FINISHED = (COMPLETED, CANCELLED)


class StepStatus:
    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    ALL = (PENDING, RUNNING, WAITING, DONE, FAILED, SKIPPED, CANCELLED)
    OPEN = (PENDING, RUNNING, WAITING)


class Role:
    ADMIN = "admin"
    BUILDER = "builder"
    APPROVER = "approver"
    VIEWER = "viewer"
    ALL = (ADMIN, BUILDER, APPROVER, VIEWER)


class Trigger:
    API = "api"
    FORM = "form"
    SCHEDULE = "schedule"
    UI = "ui"
    SIGNAL = "signal"
    SUBWORKFLOW = "subworkflow"
    ERROR = "error"  # started by an error workflow setting when another run was FLAGGED
    RERUN = "rerun"  # a re-run of an earlier run from one of its steps
    ALL = (API, FORM, SCHEDULE, UI, SIGNAL, SUBWORKFLOW, ERROR, RERUN)
