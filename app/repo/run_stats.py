"""Aggregates over runs for the dashboard (per-day counts by status)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from app.models import Run


def runs_per_day(session: Session, *, workspace_id: str,
                 since: datetime) -> list[tuple[str, str, int]]:
    """(day 'YYYY-MM-DD' in UTC, status, count) of runs created since `since`."""
    if session.get_bind().dialect.name == "postgresql":
        day = func.to_char(func.timezone("UTC", Run.created_at), "YYYY-MM-DD")
    else:  # SQLite keeps UTC text ('YYYY-MM-DD HH:MM:SS…')
        day = func.date(Run.created_at)
    query = (
        select(day, Run.status, func.count())
        .where(Run.workspace_id == workspace_id, Run.created_at >= since)
        .group_by(day, Run.status)
    )
    return [(str(d), str(s), int(n)) for d, s, n in session.exec(query).all()]
