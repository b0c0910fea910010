"""Run retention (RUN_RETENTION_DAYS): finished runs past it are deleted, with their steps,
approvals, votes and the files they brought in (bytes first, then rows); each workspace's
audit log says how many went. A file another, kept run also refers to goes with the run that
first referenced it: retention follows that run."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlmodel import Session

from app.clock import utcnow
from app.files.storage import Storage, get_storage
from app.models import Actor
from app.repo import audit
from app.repo import retention as retention_repo
from app.settings import get_settings

BATCH = 200
ACTOR = Actor.system("retention")


def purge_expired_runs(session: Session, *, now: datetime | None = None,
                       days: int | None = None, storage: Storage | None = None) -> int:
    """Delete up to BATCH finished runs older than `days` (the setting by default; 0: none)
    and commit; answers how many went."""
    keep_days = get_settings().run_retention_days if days is None else days
    if keep_days <= 0:
        return 0
    cut_off = (now or utcnow()) - timedelta(days=keep_days)
    expired = retention_repo.expired_runs(session, finished_before=cut_off, limit=BATCH)
    run_ids = [run_id for run_id, _ in expired]
    backend = storage or get_storage()
    for stored in retention_repo.files_of_runs(session, run_ids):
        backend.delete(stored.storage_key)
    retention_repo.delete_runs(session, run_ids)
    for workspace_id, count in Counter(ws for _, ws in expired).items():
        audit.record(session, workspace_id=workspace_id, actor=ACTOR, action="runs.purged",
                     resource_type="run", resource_id=None,
                     details={"count": count, "retention_days": keep_days})
    session.commit()
    return len(run_ids)
