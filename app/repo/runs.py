"""Runs: fetch within a workspace, lock for an update, list with filters and keyset cursors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, update
from sqlmodel import Session, col, select

from app.models import Run, RunStatus
from app.repo.connection import flushed_connection


def get_run(session: Session, run_id: str, *, workspace_id: str | None = None) -> Run | None:
    run = session.get(Run, run_id)
    if run is None or (workspace_id is not None and run.workspace_id != workspace_id):
        return None
    return run


_RUN_ROW = (select(Run.__table__)  # type: ignore[call-overload]
            .where(col(Run.id) == bindparam("b_id"), col(Run.workspace_id) == bindparam("b_ws")))


def run_row(session: Session, run_id: str, *, workspace_id: str) -> Row[Any] | None:
    """get_run() as a Core row (same attributes, no ORM object): for answers that only read
    it."""
    return session.connection().execute(_RUN_ROW, {"b_id": run_id, "b_ws": workspace_id}).first()


_STATUS = select(col(Run.status)).where(col(Run.id) == bindparam("b_id"))


def status_of(session: Session, run_id: str) -> str | None:
    """A run's status alone (run-and-wait's check), None when there is no such run."""
    return session.connection().execute(_STATUS, {"b_id": run_id}).scalar()


_ADVANCE = (
    update(Run)
    .where(col(Run.id) == bindparam("b_id"), col(Run.status) == RunStatus.IN_PROGRESS)
    .values(outputs=bindparam("b_outputs"), steps_completed=Run.steps_completed + 1,
            current_step=bindparam("b_current"), error=None, updated_at=bindparam("b_now"))
)


_COMPLETE = (
    update(Run)
    .where(col(Run.id) == bindparam("b_id"), col(Run.status) == RunStatus.IN_PROGRESS)
    .values(status=RunStatus.COMPLETED, outputs=bindparam("b_outputs"),
            steps_completed=Run.steps_completed + 1, error=None,
            completed_at=bindparam("b_now"), updated_at=bindparam("b_now"))
)


def complete_in_progress(session: Session, *, run_id: str, outputs: dict[str, Any],
                         now: datetime) -> bool:
    """Record the last step's output and complete a run still IN_PROGRESS (else False)."""
    outcome = session.connection().execute(_COMPLETE, {
        "b_id": run_id, "b_outputs": outputs, "b_now": now})
    return outcome.rowcount == 1


def advance_in_progress(session: Session, *, run_id: str, outputs: dict[str, Any],
                        current_step: str, now: datetime) -> bool:
    """Record a step's output and the next current step of a run that is still IN_PROGRESS
    (False when it is not: cancelled meanwhile, say). One prebuilt Core statement."""
    outcome = session.connection().execute(_ADVANCE, {
        "b_id": run_id, "b_outputs": outputs, "b_current": current_step, "b_now": now})
    return outcome.rowcount == 1


def lock_run(session: Session, run_id: str) -> Run | None:
    """The run, row-locked on PostgreSQL (SQLite's write transaction already serialises)."""
    query = select(Run).where(Run.id == run_id).with_for_update()
    return session.exec(query.execution_options(populate_existing=True)).first()


@dataclass(frozen=True)
class RunFilter:
    status: str | None = None
    workflow_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None
    trigger: str | None = None


def list_runs(
    session: Session,
    *,
    workspace_id: str,
    filters: RunFilter,
    limit: int,
    before: tuple[datetime, str] | None = None,
) -> Sequence[Run]:
    """Newest first; `before` is the (created_at, id) of the previous page's last row."""
    query = select(Run).where(Run.workspace_id == workspace_id)
    if filters.status:
        query = query.where(col(Run.status).in_(filters.status.split(",")))
    if filters.workflow_id:
        query = query.where(Run.workflow_id == filters.workflow_id)
    if filters.trigger:
        query = query.where(Run.trigger == filters.trigger)
    if filters.created_after:
        query = query.where(Run.created_at >= filters.created_after)
    if filters.created_before:
        query = query.where(Run.created_at < filters.created_before)
    if filters.search:
        pattern = f"%{filters.search.lower()}%"
        query = query.where(
            func.lower(Run.id).like(pattern) | func.lower(Run.workflow_title).like(pattern)
        )
    if before:
        at, ident = before
        query = query.where(
            (col(Run.created_at) < at) | ((col(Run.created_at) == at) & (col(Run.id) < ident))
        )
    query = query.order_by(col(Run.created_at).desc(), col(Run.id).desc()).limit(limit)
    return session.exec(query).all()


_IN_PROGRESS_AT = (
    select(Run.id)
    .where(Run.workspace_id == bindparam("b_ws"), Run.status == RunStatus.IN_PROGRESS)
    .offset(bindparam("b_offset"))
    .limit(1)
)


def has_in_progress(session: Session, *, workspace_id: str, at_least: int) -> bool:
    """Whether the workspace has `at_least` runs IN_PROGRESS (reads at most that many index
    entries)."""
    return flushed_connection(session).execute(_IN_PROGRESS_AT, {
        "b_ws": workspace_id, "b_offset": max(at_least - 1, 0)}).first() is not None


def counts_by_status(session: Session, *, workspace_id: str) -> dict[str, int]:
    query = (
        select(Run.status, func.count())
        .where(Run.workspace_id == workspace_id)
        .group_by(Run.status)
    )
    counts = {status: 0 for status in RunStatus.ALL}
    counts.update({status: int(n) for status, n in session.exec(query).all()})
    return counts


def child_runs(session: Session, parent_step_id: str) -> Sequence[Run]:
    return session.exec(select(Run).where(Run.parent_step_id == parent_step_id)).all()
