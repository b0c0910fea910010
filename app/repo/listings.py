"""Aggregates the list pages show beside each row: runs per workflow, submissions per form."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import FormSubmission, Run


@dataclass
class RunStats:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    last_run_at: datetime | None = None


def run_stats_by_workflow(session: Session, *, workspace_id: str,
                          workflow_ids: Collection[str]) -> dict[str, RunStats]:
    """Run counts by status and the latest run's time, for each of the given workflows."""
    if not workflow_ids:
        return {}
    query = (
        select(Run.workflow_id, Run.status, func.count(), func.max(Run.created_at))
        .where(Run.workspace_id == workspace_id, col(Run.workflow_id).in_(list(workflow_ids)))
        .group_by(col(Run.workflow_id), col(Run.status))
    )
    stats: dict[str, RunStats] = {}
    for workflow_id, status, count, last in session.exec(query).all():
        entry = stats.setdefault(workflow_id, RunStats())
        entry.total += int(count)
        entry.by_status[status] = int(count)
        if last is not None and (entry.last_run_at is None or last > entry.last_run_at):
            entry.last_run_at = last
    return stats


def submission_stats_by_form(session: Session, *, workspace_id: str,
                             form_ids: Collection[str]) -> dict[str, tuple[int, datetime | None]]:
    """(count, latest submission time) for each of the given forms."""
    if not form_ids:
        return {}
    query = (
        select(FormSubmission.form_id, func.count(), func.max(FormSubmission.created_at))
        .where(FormSubmission.workspace_id == workspace_id,
               col(FormSubmission.form_id).in_(list(form_ids)))
        .group_by(col(FormSubmission.form_id))
    )
    return {form_id: (int(count), last) for form_id, count, last in session.exec(query).all()}


def count_submissions(session: Session, *, form_id: str, created_after: datetime | None = None,
                      created_before: datetime | None = None) -> int:
    query = select(func.count()).select_from(FormSubmission).where(
        FormSubmission.form_id == form_id)
    if created_after:
        query = query.where(FormSubmission.created_at >= created_after)
    if created_before:
        query = query.where(FormSubmission.created_at < created_before)
    return int(session.exec(query).one())


def run_statuses(session: Session, *, workspace_id: str,
                 run_ids: Collection[str]) -> dict[str, str]:
    if not run_ids:
        return {}
    query = select(Run.id, Run.status).where(Run.workspace_id == workspace_id,
                                             col(Run.id).in_(list(run_ids)))
    return dict(session.exec(query).all())
