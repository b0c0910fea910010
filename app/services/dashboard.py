"""The dashboard's numbers: runs by status, runs per day, flagged runs, oldest and overdue
approvals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from app.clock import iso, utcnow
from app.models import Approval, ApprovalStatus, RunStatus
from app.repo import approvals as approvals_repo
from app.repo import run_stats
from app.repo import runs as runs_repo
from app.repo.runs import RunFilter

CHART_DAYS = 14
LIST_LIMIT = 5


@dataclass(frozen=True)
class Overview:
    counts: list[dict[str, str | int]]  # [{"status": "FLAGGED", "count": 2}, …] in RunStatus order
    per_day: list[dict[str, str | int]]  # [{"day": "11-23", "COMPLETED": 3, …}, …] oldest first
    flagged: list[dict[str, str]]
    oldest_approvals: list[dict[str, str]]
    total_runs: int
    overdue_count: int  # pending approvals past their due time
    overdue_approvals: list[dict[str, str]]  # the oldest of them first


def overview(session: Session, *, workspace_id: str, days: int = CHART_DAYS) -> Overview:
    counts = runs_repo.counts_by_status(session, workspace_id=workspace_id)
    now = utcnow()
    today = now.date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)
    buckets: dict[str, dict[str, str | int]] = {}
    for offset in range(days):
        day = first + timedelta(days=offset)
        buckets[day.isoformat()] = {"day": _label(day), **{s: 0 for s in RunStatus.ALL}}
    for day_text, status, n in run_stats.runs_per_day(session, workspace_id=workspace_id,
                                                      since=since):
        if day_text in buckets and status in RunStatus.ALL:
            buckets[day_text][status] = n
    flagged = runs_repo.list_runs(session, workspace_id=workspace_id,
                                  filters=RunFilter(status=RunStatus.FLAGGED), limit=LIST_LIMIT)
    oldest = approvals_repo.list_approvals(session, workspace_id=workspace_id, limit=LIST_LIMIT,
                                           status=ApprovalStatus.PENDING, oldest_first=True)
    overdue = approvals_repo.list_approvals(session, workspace_id=workspace_id, limit=LIST_LIMIT,
                                            overdue_at=now, oldest_first=True)
    return Overview(
        counts=[{"status": s, "count": counts.get(s, 0)} for s in RunStatus.ALL],
        per_day=list(buckets.values()),
        flagged=[{"id": r.id, "workflow_title": r.workflow_title or r.workflow_id,
                  "current_step": r.current_step or "", "error": (r.error or "")[:160],
                  "updated_at": iso(r.updated_at) or ""} for r in flagged],
        oldest_approvals=[_approval(a) for a in oldest],
        total_runs=sum(counts.values()),
        overdue_count=approvals_repo.count_overdue(session, workspace_id=workspace_id, now=now),
        overdue_approvals=[_approval(a) for a in overdue],
    )


def _approval(approval: Approval) -> dict[str, str]:
    return {"id": approval.id, "run_id": approval.run_id,
            "workflow_title": approval.workflow_title or approval.workflow_id,
            "step_key": approval.step_key, "instructions": approval.instructions[:160],
            "created_at": iso(approval.created_at) or "", "due_at": iso(approval.due_at) or ""}


def _label(day: date) -> str:
    return day.strftime("%b %d")
