"""Deleting finished runs past their retention: the run, its steps, approvals and votes (the
events and audit rows stay: they are the workspace's history)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.models import Approval, ApprovalVote, Run, RunStatus, StepRun, StoredFile

PURGED_STATUSES = (RunStatus.COMPLETED, RunStatus.CANCELLED)


def expired_runs(session: Session, *, finished_before: datetime,
                 limit: int) -> Sequence[tuple[str, str]]:
    """(run id, workspace id) of COMPLETED or CANCELLED runs finished before the cut-off,
    oldest first (a FLAGGED run waits for a person and is kept)."""
    query = (select(Run.id, Run.workspace_id)
             .where(col(Run.status).in_(PURGED_STATUSES),
                    col(Run.completed_at).is_not(None),
                    col(Run.completed_at) < finished_before)
             .order_by(col(Run.completed_at)).limit(limit))
    return [(row[0], row[1]) for row in session.exec(query).all()]


def files_of_runs(session: Session, run_ids: Sequence[str]) -> Sequence[StoredFile]:
    """The files whose first referencing run is one of `run_ids`."""
    if not run_ids:
        return []
    return session.exec(select(StoredFile).where(col(StoredFile.run_id).in_(list(run_ids)))
                        ).all()


def delete_runs(session: Session, run_ids: Sequence[str]) -> None:
    """The runs and what hangs off them, children first (no commit)."""
    if not run_ids:
        return
    ids = list(run_ids)
    approvals = select(Approval.id).where(col(Approval.run_id).in_(ids))
    session.execute(delete(ApprovalVote).where(col(ApprovalVote.approval_id).in_(approvals)))
    session.execute(delete(Approval).where(col(Approval.run_id).in_(ids)))
    session.execute(delete(StoredFile).where(col(StoredFile.run_id).in_(ids)))
    session.execute(delete(StepRun).where(col(StepRun.run_id).in_(ids)))
    session.execute(delete(Run).where(col(Run.id).in_(ids)))
