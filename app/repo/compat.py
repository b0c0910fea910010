"""Numeric ids for seed 004's clients: assigned on first sight, looked up both ways."""

from __future__ import annotations

from collections.abc import Collection

from sqlmodel import Session, col, select

from app.clock import utcnow
from app.models import CompatNumber


def numbers_of(session: Session, ref_ids: Collection[str]) -> dict[str, int]:
    if not ref_ids:
        return {}
    query = select(CompatNumber.ref_id, CompatNumber.number).where(
        col(CompatNumber.ref_id).in_(list(ref_ids)))
    return {ref: number for ref, number in session.exec(query).all() if number is not None}


def add_numbers(session: Session, *, workspace_id: str, kind: str,
                ref_ids: Collection[str]) -> None:
    now = utcnow()
    for ref_id in ref_ids:
        session.add(CompatNumber(workspace_id=workspace_id, kind=kind, ref_id=ref_id,
                                 created_at=now))
    session.flush()


def by_number(session: Session, number: int) -> CompatNumber | None:
    return session.get(CompatNumber, number)
