"""Recording finished attempts: the outcomes of many deliveries in one transaction.

The dispatcher's delivery threads hand what they finished to a group commit
(app/engine/group_commit.py); its writer calls `write()` with the batch. Each kind of row is
one executemany: the subscriptions' failure counts, the deliveries' new states (each only
under its claim's lease), the attempts' rows. A lost lease (another dispatcher took the
delivery over) fails that executemany: the batch is rolled back and written again item by
item, each under a savepoint, so only the stale one is rejected. A batch whose transaction
fails is written again one item per transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.db import write_session
from app.models import Actor, Webhook
from app.repo import audit
from app.repo import deliveries as deliveries_repo
from app.repo import webhooks as webhooks_repo
from app.repo.deliveries import AttemptWrite, DeliveryClaim
from app.webhooks.delivery import AttemptResult, Verdict, settle

log = logging.getLogger(__name__)

SYSTEM_ACTOR = Actor.system("webhook dispatcher")


@dataclass(frozen=True)
class Finished:
    """An attempt sent and judged, not yet recorded."""

    claim: DeliveryClaim
    result: AttemptResult
    verdict: Verdict
    now: datetime

    @property
    def clean(self) -> bool:
        """A success that changes nothing of its subscription but a non-zero failure count:
        recorded without locking the subscription row (deliveries to one endpoint would
        queue on it)."""
        return self.result.succeeded and self.verdict.disable_reason is None


def write(batch: Sequence[Finished], *, max_failures: int) -> list[bool]:
    """Record `batch` in one transaction; per item, whether it was recorded (False: its lease
    was lost or its subscription deleted)."""
    try:
        with write_session() as session:
            if len(batch) == 1:
                recorded = [_apply_one(session, batch[0], max_failures, alone=True)]
            elif (together := _apply(session, batch, max_failures)) is not None:
                recorded = together
            else:  # a lease was lost: find whose, one savepoint each
                session.rollback()
                recorded = [_apply_one(session, item, max_failures, alone=False)
                            for item in batch]
            session.commit()
    except Exception:
        if len(batch) == 1:
            raise
        log.warning("recording %d attempts together failed; recording them one by one",
                    len(batch), exc_info=True)
        return [_write_alone(item, max_failures) for item in batch]
    for item, done in zip(batch, recorded, strict=True):
        if done and not item.result.succeeded:
            log.info("delivery %s attempt %s failed: %s", item.claim.delivery_id,
                     item.claim.attempt, item.result.error)
    return recorded


def _write_alone(item: Finished, max_failures: int) -> bool:
    try:
        return write([item], max_failures=max_failures)[0]
    except Exception:
        log.exception("delivery %s: attempt %s could not be recorded (the lease will expire "
                      "and retry)", item.claim.delivery_id, item.claim.attempt)
        return False


def _apply_one(session: Session, item: Finished, max_failures: int, *, alone: bool) -> bool:
    savepoint = None if alone else session.begin_nested()
    recorded = _apply(session, [item], max_failures)
    if recorded is not None:
        if savepoint is not None:
            savepoint.commit()
        return recorded[0]
    if savepoint is not None:
        savepoint.rollback()
    else:
        session.rollback()
    log.warning("delivery %s: lease lost, attempt %s not recorded", item.claim.delivery_id,
                item.claim.attempt)
    return False


def _apply(session: Session, batch: Sequence[Finished],
           max_failures: int) -> list[bool] | None:
    """Write `batch` in `session`, webhook rows before delivery rows (the lock order of every
    writer); None when a lease was lost (the caller rolls back)."""
    if all(item.clean for item in batch):
        webhooks_repo.reset_failures(session, [item.claim.webhook_id for item in batch])
        writes = [_write_of(item, item.verdict.status, None) for item in batch]
        return [True] * len(batch) if deliveries_repo.finish_attempts(session, writes) else None
    # A failure or a disable reads and changes its subscription: lock every subscription of
    # the batch, in id order, and count the failures in the order the attempts finished.
    hooks = webhooks_repo.lock_webhooks(session, [item.claim.webhook_id for item in batch])
    counts = {ident: hook.consecutive_failures for ident, hook in hooks.items()}
    disables: dict[str, tuple[str, datetime]] = {}
    writes, recorded = [], []
    for item in batch:
        hook = hooks.get(item.claim.webhook_id)
        recorded.append(hook is not None)
        if hook is None:
            continue  # deleted with its deliveries
        settled = settle(item.result, item.verdict, failures=counts[hook.id],
                         active=hook.active and hook.id not in disables,
                         max_failures=max_failures)
        counts[hook.id] = settled.failures
        if settled.disable_reason and hook.active and hook.id not in disables:
            disables[hook.id] = (settled.disable_reason, item.now)
        writes.append(_write_of(item, settled.status, settled.next_attempt_at))
    webhooks_repo.set_failures(session, {ident: count for ident, count in counts.items()
                                         if count != hooks[ident].consecutive_failures})
    if not deliveries_repo.finish_attempts(session, writes):
        return None
    for ident, (reason, now) in disables.items():
        _disable(session, hooks[ident], reason, now)
    return recorded


def _write_of(item: Finished, status: str, next_attempt_at: datetime | None) -> AttemptWrite:
    result = item.result
    return AttemptWrite(
        claim=item.claim, status=status, next_attempt_at=next_attempt_at,
        started_at=result.started_at, status_code=result.status_code,
        latency_ms=result.latency_ms, error=result.error,
        response_excerpt=result.response_excerpt,
        delivered_at=item.now if result.succeeded else None)


def _disable(session: Session, webhook: Webhook, reason: str, now: datetime) -> None:
    webhook.active = False
    webhook.disabled_reason = reason[:500]
    webhook.version += 1
    webhook.updated_at = now
    webhooks_repo.fail_pending_deliveries(
        session, webhook_id=webhook.id, reason=f"the subscription was disabled ({reason})")
    audit.record(session, workspace_id=webhook.workspace_id, actor=SYSTEM_ACTOR,
                 action="webhook.disabled", resource_type="webhook", resource_id=webhook.id,
                 details={"reason": reason})
    session.add(webhook)
    log.warning("webhook %s disabled: %s", webhook.id, reason)
