"""Idempotency keys: the first request with a key claims it by inserting a record (the unique
constraint on workspace + key decides between concurrent requests, on SQLite and PostgreSQL);
its successful response is stored and replayed verbatim to any retry within 24 hours.

Stored responses are encrypted at rest: some of them carry a secret shown once (a webhook's
signing secret, say), which must not sit in the database in plain text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import crypto
from app.repo import idempotency as records

KEEP_FOR = timedelta(hours=24)
# A claim older than this without a response belongs to a request whose process died.
ABANDONED_AFTER = timedelta(minutes=2)
_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class Claimed:
    record_id: str


@dataclass(frozen=True)
class Replay:
    status: int
    body: str
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InFlight:
    pass


@dataclass(frozen=True)
class Mismatch:
    """The key was used for a different request (another body, path or method)."""


ClaimOutcome = Claimed | Replay | InFlight | Mismatch


def claim_key(session: Session, *, workspace_id: str, key: str, method: str, path: str,
              request_hash: str, now: datetime) -> ClaimOutcome:
    """Claim `key` for this request in a transaction of its own (committed at once, so a
    concurrent duplicate sees it in flight), or say why not (replay, in flight, mismatch)."""
    outcome = claim_in_transaction(session, workspace_id=workspace_id, key=key, method=method,
                                   path=path, request_hash=request_hash, now=now)
    if isinstance(outcome, Claimed):
        session.commit()
    return outcome


def claim_in_transaction(session: Session, *, workspace_id: str, key: str, method: str,
                         path: str, request_hash: str, now: datetime) -> ClaimOutcome:
    """Claim `key` as the first write of the caller's transaction (not committed): it is
    committed with the change it names and that change's answer, or rolled back with them.
    A concurrent duplicate waits on the unique key (PostgreSQL) or the write lock (SQLite)
    and then finds the answer. Anything but Claimed leaves no transaction open."""
    expires_at = now + KEEP_FOR
    for _ in range(_CLAIM_ATTEMPTS):
        try:
            record = records.insert_claim(session, workspace_id=workspace_id, key=key,
                                          method=method, path=path, request_hash=request_hash,
                                          now=now, expires_at=expires_at)
            return Claimed(record.id)
        except IntegrityError:
            session.rollback()
        existing = records.find_record(session, workspace_id=workspace_id, key=key)
        if existing is None:
            session.rollback()
            continue  # released between our insert and our read: try to claim it again
        # Read what we need now: a rollback expires the instance.
        record_id, stored_hash = existing.id, existing.request_hash
        status, body = existing.response_status, existing.response_body
        headers = dict(existing.response_headers or {})
        if records.take_over(session, record_id=record_id, method=method, path=path,
                             request_hash=request_hash, now=now, expires_at=expires_at,
                             abandoned_before=now - ABANDONED_AFTER):
            return Claimed(record_id)
        session.rollback()
        if stored_hash != request_hash:
            return Mismatch()
        if status is None or body is None:
            return InFlight()
        return Replay(status, crypto.decrypt(body), headers)
    return InFlight()


class AlreadyAnswered(Exception):
    """A keyed write whose key was claimed before: answer `outcome` (a replay, 409 or 422)."""

    def __init__(self, outcome: ClaimOutcome) -> None:
        super().__init__(type(outcome).__name__)
        self.outcome = outcome


@dataclass(frozen=True)
class KeyRequest:
    """An Idempotency-Key sent with a write, and the request it names."""

    workspace_id: str
    key: str
    method: str
    path: str
    request_hash: str


class KeyedWrite:
    """An Idempotency-Key recorded in the transaction of the write it names: `claim()` as
    the transaction's first write, `keep()` the answer just before its commit. Without a key
    (`KeyedWrite(None)`) both do nothing."""

    def __init__(self, request: KeyRequest | None) -> None:
        self.request = request
        self.record_id: str | None = None

    def claim(self, session: Session, *, now: datetime) -> None:
        """Raises AlreadyAnswered when the key was used before (nothing written)."""
        if self.request is None:
            return
        r = self.request
        outcome = claim_in_transaction(session, workspace_id=r.workspace_id, key=r.key,
                                       method=r.method, path=r.path,
                                       request_hash=r.request_hash, now=now)
        if not isinstance(outcome, Claimed):
            raise AlreadyAnswered(outcome)
        self.record_id = outcome.record_id

    def keep(self, session: Session, *, status: int, body: str,
             headers: dict[str, Any]) -> None:
        """Store the answer in the claim, in the same transaction (the caller commits)."""
        if self.record_id is not None:
            records.store_response(session, record_id=self.record_id, status=status,
                                   body=crypto.encrypt(body), headers=headers)


def complete_key(session: Session, *, record_id: str, status: int, body: str,
                 headers: dict[str, Any]) -> None:
    records.store_response(session, record_id=record_id, status=status,
                           body=crypto.encrypt(body), headers=headers)
    session.commit()


def release_key(session: Session, *, record_id: str) -> None:
    """Forget a claim whose request failed, so a corrected retry may use the key again."""
    records.delete_record(session, record_id)
    session.commit()


def purge_expired_keys(session: Session, *, now: datetime) -> int:
    removed = records.delete_expired(session, now=now)
    session.commit()
    return removed
