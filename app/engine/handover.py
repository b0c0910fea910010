"""Hand-over: a step made ready by a request is leased to this process's executor in the
request's own transaction and given to it after the commit, explicitly.

Without it, a trigger or a decision leaves its next step pending and wakes the executor,
which then spends a claim transaction of its own to find it. With it, the step is leased in
the commit that creates it (a free slot of the executor is reserved first, so the executor
never holds more than its concurrency) and starts as soon as the commit returns. A process
without an executor (an API-only process of a scale-out) leaves steps pending for workers. If
the process dies between the commit and the run, the lease expires and any worker reclaims
the step, as for any step whose worker died.

    with handover.begin() as hand:              # the process's executor, or a given taker
        progress.advance(session, t, now=now, hand=hand)   # leases ready steps, holds them
        hand.commit(session)                    # commit, then give the claims to the taker
    # leaving the block without hand.commit() gives the reserved slots back
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from types import TracebackType
from typing import Protocol

from sqlmodel import Session

from app.models.transition import NewStep
from app.repo.steps import Claim, Lease
from app.repo.transitions import new_token

log = logging.getLogger(__name__)


class StepTaker(Protocol):
    """What an executor offers: slots reserved ahead, then claims taken after the commit."""

    owner: str
    lease_s: float

    def reserve(self) -> bool: ...

    def unreserve(self) -> None: ...

    def take(self, claim: Claim) -> None: ...


_taker: StepTaker | None = None
_lock = threading.Lock()


def set_taker(taker: StepTaker | None) -> None:
    """This process's executor, registered by the process that runs it (None: nothing is
    handed over, steps stay pending for any worker)."""
    global _taker
    with _lock:
        _taker = taker


def process_taker() -> StepTaker | None:
    return _taker


class Handover:
    """One transaction's hand-over to `taker` (None: every new step stays pending)."""

    def __init__(self, taker: StepTaker | None) -> None:
        self.taker = taker
        self._reserved = 0
        self._claims: list[Claim] = []

    def lease_for(self, step: NewStep) -> Lease | None:
        """A lease for `step` if the taker has a free slot (held until commit or close)."""
        if self.taker is None or not self.taker.reserve():
            return None
        self._reserved += 1
        return Lease(owner=self.taker.owner, token=new_token(),
                     expires_at=step.created_at + timedelta(seconds=self.taker.lease_s))

    def hold(self, claims: list[Claim]) -> None:
        """Claims made with leases from lease_for(), to give after the commit."""
        self._claims.extend(claims)

    def commit(self, session: Session) -> None:
        session.commit()
        claims, self._claims = self._claims, []
        for claim in claims:
            self._reserved -= 1
            assert self.taker is not None
            try:
                self.taker.take(claim)
            except Exception:  # the commit stands; the lease expires and the step is reclaimed
                log.exception("hand-over of step %s failed", claim.step_id)

    def close(self) -> None:
        """Give back the slots of leases not handed over (a rollback, an error, unused)."""
        self._claims = []
        while self._reserved > 0:
            self._reserved -= 1
            assert self.taker is not None
            self.taker.unreserve()

    def __enter__(self) -> Handover:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def begin(taker: StepTaker | None = None) -> Handover:
    """A hand-over to `taker`, by default this process's executor."""
    return Handover(taker if taker is not None else _taker)
