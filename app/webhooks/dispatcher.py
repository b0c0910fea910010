"""The webhook dispatcher: outbox events → deliveries → signed POSTs, concurrently, with retries.

A tick (1) fans new events out into one delivery per matching subscription, (2) claims due
deliveries with a lease, and (3) hands them to a thread pool that sends them through the
guarded transport (a connection pool per delivery thread: app/webhooks/outbound.py). No
database transaction is open during an HTTP call: each attempt is read, sent, then
recorded, only while its lease is still held, in one transaction with the attempts that
finished at about the same time (a group commit: app/webhooks/outcomes.py). A dispatcher
that dies mid-attempt loses nothing: the lease expires and another takes over (delivery is
at least once; receivers dedupe on `webhook-id`, the event id).
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Literal

import httpx

from app import crypto
from app.clock import as_utc, utcnow
from app.db import read_session, write_session
from app.engine.group_commit import GroupCommit
from app.models import DeliveryStatus
from app.repo import deliveries as deliveries_repo
from app.repo import webhooks as webhooks_repo
from app.repo.deliveries import DeliveryClaim, DeliverySource
from app.webhooks import outcomes
from app.webhooks.delivery import AttemptResult, DeliveryJob, build_body, judge, send
from app.webhooks.outbound import transport_for_settings
from app.webhooks.outcomes import Finished

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

# Attempts in flight at once (WEBHOOK_CONCURRENCY). A loopback receiver answering at once took
# 627 attempts/s from 16 threads and 770/s from 64: each waits on the wire and on its record's
# group commit, and a record batch of 64 costs little more than one of 16.
DELIVERY_CONCURRENCY = 64
CLAIM_BATCH = 32
# A dispatcher with more due than slots claims again once this share of its slots is free,
# not at each one: a claim (its reads, its write, the sources' read) of one delivery cost as
# much as sending it.
REFILL_SHARE = 0.25
FAN_OUT_BATCH = 200
# A lease outlives the slowest attempt (connect + read timeouts) with room to record it.
LEASE_MARGIN_S = 10.0
# run_until_idle(wait_for_retries=True) never sleeps longer than this at once.
IDLE_WAIT_STEP_S = 0.5
# Group commit of finished attempts: at most this many per transaction, the first waiting at
# most this long for others to join.
RECORD_BATCH = 64
RECORD_WAIT_S = 0.002
# Signing secrets decrypted, by their ciphertext (Fernet took 3 % of the CPU of an attempt):
# at most this many kept, in memory only, forgotten all at once when full.
SECRETS_KEPT = 1024


class _Unread(Enum):
    """deliver()'s `source` when the caller did not read it (None: there was none to read)."""

    UNREAD = "unread"


_Source = DeliverySource | None | Literal[_Unread.UNREAD]


class Dispatcher:
    def __init__(
        self,
        *,
        transport: httpx.BaseTransport,
        clock: Callable[[], datetime] = utcnow,
        timeout_s: float = 10.0,
        retry_scale: float = 1.0,
        max_failures: int = 20,
        concurrency: int = DELIVERY_CONCURRENCY,
        claim_batch: int = CLAIM_BATCH,
        lease_s: float | None = None,
        owns_transport: bool = False,
        record_batch: int = RECORD_BATCH,
        record_wait_s: float = RECORD_WAIT_S,
    ) -> None:
        """`record_batch` outcomes at most are recorded per transaction, the first waiting
        `record_wait_s` at most for others to join (app/engine/group_commit.py)."""
        self.transport = transport
        self.clock = clock
        self.timeout_s = timeout_s
        self.retry_scale = retry_scale
        self.max_failures = max_failures
        self.concurrency = concurrency
        self.claim_batch = claim_batch
        self.lease_s = lease_s if lease_s is not None else 2 * timeout_s + LEASE_MARGIN_S
        self._owns_transport = owns_transport
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._in_flight = 0
        self._refill_at = max(1, int(concurrency * REFILL_SHARE))
        self._saturated = False
        self._stopping = False
        # Called when enough slots are free again after a tick that found more work than slots.
        self.on_delivery_finished: Callable[[], None] = lambda: None
        self._secrets: dict[str, str] = {}
        self._records: GroupCommit[Finished, bool] = GroupCommit(
            self._write, max_batch=record_batch, max_wait_s=record_wait_s,
            name="delivery-records")

    @classmethod
    def for_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                     clock: Callable[[], datetime] = utcnow) -> Dispatcher:
        """A dispatcher tuned by settings; it builds (and later closes) its guarded transport
        if not given."""
        owns = transport is None
        return cls(transport=transport or transport_for_settings(settings), clock=clock,
                   concurrency=settings.webhook_concurrency,
                   timeout_s=settings.webhook_timeout_s,
                   retry_scale=settings.webhook_retry_scale,
                   max_failures=settings.webhook_max_failures, owns_transport=owns)

    # -- scheduling ---------------------------------------------------------------------

    def tick(self) -> int:
        """Fan out new events, then start as many due deliveries as there are free slots."""
        self.fan_out()
        started = 0
        while not self._stopping:
            with self._lock:
                free = self.concurrency - self._in_flight
            if free <= 0:
                with self._lock:
                    self._saturated = True
                break
            claims = self.claim(min(free, self.claim_batch))
            if not claims:
                break
            # What to send, read for the whole claim at once rather than by each attempt.
            with read_session() as session:
                sources = deliveries_repo.delivery_sources(session, claims)
            unsent = [claim for claim in claims
                      if not self._submit(claim, sources.get(claim.delivery_id))]
            if unsent:
                self._release(unsent)
            started += len(claims) - len(unsent)
        return started

    def fan_out(self) -> int:
        """Turn every unfanned event into deliveries; returns how many deliveries were made."""
        made = 0
        while True:
            with read_session() as session:
                if not deliveries_repo.has_unfanned_events(session):
                    return made
            with write_session() as session:
                events, created = deliveries_repo.fan_out_events(
                    session, now=self.clock(), limit=FAN_OUT_BATCH)
                session.commit()
            made += created
            if events < FAN_OUT_BATCH:
                return made

    def claim(self, limit: int) -> list[DeliveryClaim]:
        with read_session() as session:
            if not deliveries_repo.has_due_deliveries(session, now=self.clock()):
                return []
        with write_session() as session:
            claims = deliveries_repo.claim_due_deliveries(
                session, now=self.clock(), lease_s=self.lease_s, limit=limit)
            session.commit()
        return claims

    def _submit(self, claim: DeliveryClaim, source: DeliverySource | None) -> bool:
        """Hand the claim to a delivery thread; False once stop() has begun."""
        with self._lock:
            if self._stopping:
                return False
            self._in_flight += 1
            self._pool_locked().submit(self._deliver_and_release, claim, source)
            return True

    def _release(self, claims: list[DeliveryClaim]) -> None:
        """stop() came between claiming these and sending them: give them back, so that the
        next dispatcher (this process after a restart, or another) sends them at once rather
        than when their leases run out. If that fails, the leases still run out."""
        try:
            with write_session() as session:
                deliveries_repo.release_claims(session, claims)
                session.commit()
        except Exception:
            log.exception("%d claimed deliveries not released at stop (their leases will "
                          "expire)", len(claims))

    def _ensure_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._lock:
            return self._pool_locked()

    def _pool_locked(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="webhook")
        return self._pool

    def _deliver_and_release(self, claim: DeliveryClaim, source: DeliverySource | None) -> None:
        try:
            self.deliver(claim, source)
        finally:
            with self._lock:
                self._in_flight -= 1
                wake = (self._saturated
                        and self.concurrency - self._in_flight >= self._refill_at)
                if wake:
                    self._saturated = False
            if wake:
                self.on_delivery_finished()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def run_until_idle(self, *, wait_for_retries: bool = False, max_wait_s: float = 30.0) -> int:
        """Deliver everything due now, concurrently, and return the attempts made (tests, CLI).

        With `wait_for_retries`, also sleep until scheduled retries fall due, until none is
        left or `max_wait_s` has passed.
        """
        deadline = time.monotonic() + max_wait_s
        attempts = 0
        while True:
            self.fan_out()
            claims = self.claim(self.claim_batch)
            if claims:
                list(self._ensure_pool().map(self.deliver, claims))
                attempts += len(claims)
                continue
            if not wait_for_retries or time.monotonic() >= deadline:
                return attempts
            with read_session() as session:
                due = deliveries_repo.next_due_at(session)
            if due is None:
                return attempts
            wait = (due - self.clock()).total_seconds()
            time.sleep(min(max(wait, 0.0) + 0.01, IDLE_WAIT_STEP_S,
                           max(deadline - time.monotonic(), 0.0)))

    def stop(self, *, wait: bool = True, timeout_s: float | None = None) -> None:
        """Claim nothing more; with `wait`, let attempts in flight finish (up to timeout_s)."""
        with self._lock:  # no submit slips in between this and the pool's shutdown
            self._stopping = True
            pool = self._pool
        if pool is not None:
            if wait and timeout_s is not None:
                waiter = threading.Thread(target=pool.shutdown, daemon=True)
                waiter.start()
                waiter.join(timeout_s)
            else:
                pool.shutdown(wait=wait)
        self._records.stop(timeout_s)  # what is queued is written; later records inline
        if self._owns_transport:
            self.transport.close()

    # -- one attempt ----------------------------------------------------------------------

    def deliver(self, claim: DeliveryClaim, source: _Source = _Unread.UNREAD) -> None:
        """Send one attempt of a claimed delivery and record it; never raises. `source` is
        what to send if the caller read it already (None: its subscription or event is
        gone); otherwise it is read here. Its record shares a transaction with the records of
        the attempts that finished with it (app/webhooks/outcomes.py)."""
        self._records.busy()
        try:
            job = self._load(claim, source)
            if job is None:
                return
            result = job if isinstance(job, AttemptResult) else send(
                self.transport, job, now=self.clock(), timeout_s=self.timeout_s)
            now = self.clock()
            verdict = judge(result, attempt=claim.attempt, first_attempt_at=claim.created_at,
                            now=now, retry_scale=self.retry_scale)
            self._record(Finished(claim, result, verdict, now))
        except Exception:
            log.exception("delivery %s: dispatcher error (the lease will expire and retry)",
                          claim.delivery_id)
        finally:
            self._records.idle()

    def _load(self, claim: DeliveryClaim,
              source: _Source) -> DeliveryJob | AttemptResult | None:
        """The request to send, a failed result if it cannot be built, or None to skip."""
        if source is _Unread.UNREAD:
            with read_session() as session:
                source = deliveries_repo.delivery_sources(session, [claim]).get(claim.delivery_id)
        if source is None:
            return None  # deleted with its subscription
        if not source.active:
            self._end_unsent(claim, source.disabled_reason or "the subscription is disabled")
            return None
        now = self.clock()
        try:
            secrets = [self._decrypt(source.secret_encrypted)]
            if (source.previous_secret_encrypted and source.previous_secret_expires_at
                    and as_utc(source.previous_secret_expires_at) > now):
                secrets.append(self._decrypt(source.previous_secret_encrypted))
        except crypto.DecryptionFailed as exc:
            return AttemptResult(now, error=f"not sent: the signing secret is unreadable ({exc})")
        return DeliveryJob(url=source.url, message_id=claim.event_id,
                           body=build_body(source.payload, source.payload_format),
                           secrets=secrets)

    def _decrypt(self, ciphertext: str) -> str:
        """A signing secret; a rotated secret is a new ciphertext, so never a stale one."""
        secret = self._secrets.get(ciphertext)
        if secret is None:
            secret = crypto.decrypt(ciphertext)
            if len(self._secrets) >= SECRETS_KEPT:
                self._secrets.clear()
            self._secrets[ciphertext] = secret
        return secret

    def _end_unsent(self, claim: DeliveryClaim, reason: str) -> None:
        with write_session() as session:
            if webhooks_repo.lock_webhook(session, claim.webhook_id) is None:
                return
            deliveries_repo.finish_delivery(session, claim, values={
                "status": DeliveryStatus.FAILED, "next_attempt_at": None,
                "attempts": claim.attempt - 1, "last_error": f"not sent: {reason}"[:1000]})
            session.commit()

    def _record(self, finished: Finished) -> bool:
        """Hand the outcome to the group commit and wait until its batch is written."""
        return self._records.submit(finished)

    def _write(self, batch: Sequence[Finished]) -> list[bool]:
        return outcomes.write(batch, max_failures=self.max_failures)
