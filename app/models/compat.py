"""Numeric ids for seed 004's clients, which address runs and steps by number."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.models.base import workspace_fk

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
NUMBER_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class CompatNumber(SQLModel, table=True):
    """A run's or step's number, assigned the first time a seed-004 answer shows it."""

    __tablename__ = "compat_number"

    number: int | None = Field(
        default=None, sa_column=sa.Column(NUMBER_TYPE, primary_key=True, autoincrement=True))
    workspace_id: str = workspace_fk()
    kind: str = Field(max_length=10)  # "run" | "step"
    ref_id: str = Field(max_length=40, sa_column_kwargs={"unique": True})
    created_at: datetime = Field(default_factory=utcnow)
