"""Idempotency records: claimed by inserting (the unique key decides), completed or released."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from app.models import IdempotencyRecord


def insert_claim(session: Session, *, workspace_id: str, key: str, method: str, path: str,
                 request_hash: str, now: datetime, expires_at: datetime) -> IdempotencyRecord:
    record = IdempotencyRecord(workspace_id=workspace_id, key=key, method=method, path=path,
                               request_hash=request_hash, created_at=now, expires_at=expires_at)
    session.add(record)
    session.flush()
    return record


def find_record(session: Session, *, workspace_id: str, key: str) -> IdempotencyRecord | None:
    query = select(IdempotencyRecord).where(IdempotencyRecord.workspace_id == workspace_id,
                                            IdempotencyRecord.key == key)
    return session.exec(query.execution_options(populate_existing=True)).first()


def take_over(session: Session, *, record_id: str, method: str, path: str, request_hash: str,
              now: datetime, expires_at: datetime, abandoned_before: datetime) -> bool:
    """Reuse an expired record, or one whose request never finished (its process died)."""
    statement = (
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.id) == record_id,
               or_(col(IdempotencyRecord.expires_at) <= now,
                   col(IdempotencyRecord.response_status).is_(None)
                   & (col(IdempotencyRecord.created_at) < abandoned_before)))
        .values(method=method, path=path, request_hash=request_hash, response_status=None,
                response_body=None, response_headers={}, created_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    return session.exec(statement).rowcount == 1


def store_response(session: Session, *, record_id: str, status: int, body: str,
                   headers: dict[str, Any]) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(col(IdempotencyRecord.id) == record_id)
        .values(response_status=status, response_body=body, response_headers=headers)
        .execution_options(synchronize_session=False)
    )


def delete_record(session: Session, record_id: str) -> None:
    session.execute(delete(IdempotencyRecord).where(col(IdempotencyRecord.id) == record_id))


def delete_expired(session: Session, *, now: datetime) -> int:
    result = session.exec(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) <= now))
    return int(result.rowcount or 0)
