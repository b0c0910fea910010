"""Hand-over: a step made ready by a request is leased to this process's executor in the
request's own transaction and handed to it after the commit.

Without it, a trigger or a decision leaves its next step pending and wakes the executor,
which then spends a claim transaction of its own to find it. With it, the step is leased in
the commit that creates it (a free slot of the executor is reserved first, so the executor
never holds more than its concurrency) and starts as soon as the commit returns. A process
without an executor (an API-only process of a scale-out) leaves steps pending for workers, as
before. If the process dies between the commit and the run, the lease expires and any worker
reclaims the step, as for any step whose worker died.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import event
from sqlmodel import Session

from app.repo import steps as steps_repo

log = logging.getLogger(__name__)

_RESERVED = "handover_reserved"
_CLAIMS = "handover_claims"


class StepTaker(Protocol):
    """What an executor offers: slots reserved ahead, then claims taken after the commit."""

    owner: str
    lease_s: float

    def reserve(self) -> bool: ...

    def unreserve(self) -> None: ...

    def take(self, claim: steps_repo.Claim) -> None: ...


_taker: StepTaker | None = None
_lock = threading.Lock()


def set_taker(taker: StepTaker | None) -> None:
    """This process's executor (None: nothing is handed over, steps stay pending)."""
    global _taker
    with _lock:
        _taker = taker


def reserve_lease(session: Session, now: datetime) -> steps_repo.Lease | None:
    """A lease for a step about to be created, if this process's executor has a free slot;
    the slot is held until the session's transaction ends."""
    taker = _taker
    if taker is None or not taker.reserve():
        return None
    session.info.setdefault(_RESERVED, []).append(taker)
    return steps_repo.Lease(owner=taker.owner, token=steps_repo.new_token(),
                            expires_at=now + timedelta(seconds=taker.lease_s))


def hand_over(session: Session, claim: steps_repo.Claim) -> None:
    """Give `claim` (made with a lease from reserve_lease) to the executor after the commit."""
    session.info.setdefault(_CLAIMS, []).append(claim)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    reserved: list[StepTaker] = session.info.pop(_RESERVED, [])
    claims: list[steps_repo.Claim] = session.info.pop(_CLAIMS, [])
    for taker, claim in zip(reserved, claims, strict=False):
        try:
            taker.take(claim)
        except Exception:  # the commit stands; the lease expires and the step is reclaimed
            log.exception("hand-over of step %s failed", claim.step_id)
    for taker in reserved[len(claims):]:
        taker.unreserve()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: object) -> None:
    # A rollback (or a close without commit) gives the reserved slots back.
    if getattr(transaction, "parent", None) is not None:
        return
    session.info.pop(_CLAIMS, None)
    for taker in session.info.pop(_RESERVED, []):
        taker.unreserve()
