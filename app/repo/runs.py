"""Runs: fetch within a workspace, lock for an update, list with filters and keyset cursors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, inspect
from sqlmodel import Session, col, select

from app.models import Run, RunStatus, Trigger
from app.models.transition import RunState
from app.repo.conditions import ENUM, NUMBER, TEXT, TIME, Attribute, Condition, apply
from app.repo.connection import flushed_connection

# What structured filters may name on a run list.
RUN_ATTRIBUTES = {
    "id": Attribute(Run.id, TEXT),
    "status": Attribute(Run.status, ENUM, RunStatus.ALL),
    "workflow_id": Attribute(Run.workflow_id, TEXT),
    "workflow_title": Attribute(Run.workflow_title, TEXT),
    "version_number": Attribute(Run.version_number, NUMBER),
    "trigger": Attribute(Run.trigger, ENUM, Trigger.ALL),
    "created_by": Attribute(Run.created_by, TEXT, nullable=True),
    "created_at": Attribute(Run.created_at, TIME),
    "completed_at": Attribute(Run.completed_at, TIME, nullable=True),
}


def get_run(session: Session, run_id: str, *, workspace_id: str | None = None) -> Run | None:
    run = session.get(Run, run_id)
    if run is None or (workspace_id is not None and run.workspace_id != workspace_id):
        return None
    return run


_RUN_ROW = (inspect(Run).local_table.select()
            .where(col(Run.id) == bindparam("b_id"), col(Run.workspace_id) == bindparam("b_ws")))


def run_row(session: Session, run_id: str, *, workspace_id: str) -> Row[Any] | None:
    """get_run() as a Core row (same attributes, no ORM object): for answers that only read
    it."""
    return session.connection().execute(_RUN_ROW, {"b_id": run_id, "b_ws": workspace_id}).first()


_STATUS = select(col(Run.status)).where(col(Run.id) == bindparam("b_id"))


def status_of(session: Session, run_id: str) -> str | None:
    """A run's status alone (run-and-wait's check), None when there is no such run."""
    return session.connection().execute(_STATUS, {"b_id": run_id}).scalar()


def run_state(run: Run) -> RunState:
    """A run row as a transition reads it."""
    return RunState(
        id=run.id, workspace_id=run.workspace_id, workflow_id=run.workflow_id,
        workflow_version_id=run.workflow_version_id, version_number=run.version_number,
        workflow_title=run.workflow_title, status=run.status, input=dict(run.input or {}),
        outputs=dict(run.outputs or {}), trigger=run.trigger, created_at=run.created_at,
        deadline_at=run.deadline_at, parent_step_id=run.parent_step_id,
        steps_completed=run.steps_completed, current_step=run.current_step, error=run.error,
        completed_at=run.completed_at, created_by=run.created_by, requester=run.requester,
        source_run_id=run.source_run_id)


def detached_run(state: RunState, *, updated_at: datetime) -> Run:
    """A run as written by a transition, as an ORM object not attached to any session (the
    answer of a trigger, built from what was written rather than read back)."""
    return Run(
        id=state.id, workspace_id=state.workspace_id, workflow_id=state.workflow_id,
        workflow_version_id=state.workflow_version_id, version_number=state.version_number,
        workflow_title=state.workflow_title, status=state.status, input=state.input,
        outputs=state.outputs, current_step=state.current_step,
        steps_completed=state.steps_completed, trigger=state.trigger, idempotency_key=None,
        parent_step_id=state.parent_step_id, created_by=state.created_by,
        requester=state.requester, error=state.error,
        created_at=state.created_at, updated_at=updated_at, completed_at=state.completed_at,
        deadline_at=state.deadline_at, source_run_id=state.source_run_id)


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
    conditions: tuple[Condition, ...] = ()


def list_runs(
    session: Session,
    *,
    workspace_id: str,
    filters: RunFilter,
    limit: int,
    before: tuple[datetime, str] | None = None,
    offset: int = 0,
) -> Sequence[Run]:
    """Newest first; `before` is the (created_at, id) of the previous page's last row,
    `offset` how many rows to skip after it."""
    query = apply(select(Run).where(Run.workspace_id == workspace_id), RUN_ATTRIBUTES,
                  filters.conditions)
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
    query = query.order_by(col(Run.created_at).desc(), col(Run.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


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


def runs_from(session: Session, run_id: str) -> Sequence[Run]:
    """The runs whose source is `run_id` (its re-runs and error workflow runs), oldest first."""
    query = select(Run).where(Run.source_run_id == run_id).order_by(col(Run.created_at))
    return session.exec(query).all()
