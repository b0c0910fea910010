"""Workflows and their published versions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.models import Workflow, WorkflowStatus, WorkflowVersion
from app.repo.conditions import ENUM, NUMBER, TEXT, TIME, Attribute, Condition, apply
from app.repo.connection import flushed_connection

# What structured filters may name on a workflow list.
WORKFLOW_ATTRIBUTES = {
    "id": Attribute(Workflow.id, TEXT),
    "title": Attribute(Workflow.title, TEXT),
    "description": Attribute(Workflow.description, TEXT),
    "status": Attribute(Workflow.status, ENUM, WorkflowStatus.ALL),
    "published_number": Attribute(Workflow.published_number, NUMBER, nullable=True),
    "created_by": Attribute(Workflow.created_by, TEXT, nullable=True),
    "created_at": Attribute(Workflow.created_at, TIME),
    "updated_at": Attribute(Workflow.updated_at, TIME),
}


def get_workflow(
    session: Session, workflow_id: str, *, workspace_id: str | None = None
) -> Workflow | None:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or workflow.deleted_at is not None:
        return None
    if workspace_id is not None and workflow.workspace_id != workspace_id:
        return None
    return workflow


class WorkflowRef(NamedTuple):
    """What starting a run needs of a workflow (not its draft definition)."""

    id: str
    workspace_id: str
    published_number: int | None


# Reads of every trigger: prebuilt statements run on the connection (building a select and
# running it through the ORM session cost ~5 x executing it).
_WORKFLOW_REF = select(Workflow.id, Workflow.workspace_id, Workflow.published_number).where(
    Workflow.id == bindparam("b_id"), Workflow.workspace_id == bindparam("b_ws"),
    col(Workflow.deleted_at).is_(None))


def workflow_ref(session: Session, workflow_id: str, *, workspace_id: str) -> WorkflowRef | None:
    """get_workflow() reading three columns: None when missing, deleted or in another
    workspace."""
    row = flushed_connection(session).execute(
        _WORKFLOW_REF, {"b_id": workflow_id, "b_ws": workspace_id}).first()
    return WorkflowRef(*row) if row is not None else None


def list_workflows(
    session: Session,
    *,
    workspace_id: str,
    limit: int,
    status: str | None = None,
    search: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    before: tuple[datetime, str] | None = None,
    offset: int = 0,
    conditions: Sequence[Condition] = (),
) -> Sequence[Workflow]:
    query = _listed(workspace_id, status=status, search=search, created_after=created_after,
                    created_before=created_before, conditions=conditions)
    if before:
        at, ident = before
        query = query.where(
            (col(Workflow.created_at) < at)
            | ((col(Workflow.created_at) == at) & (col(Workflow.id) < ident))
        )
    query = query.order_by(col(Workflow.created_at).desc(), col(Workflow.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


def count_workflows(session: Session, *, workspace_id: str, status: str | None = None,
                    search: str | None = None) -> int:
    """How many workflows list_workflows() would show over all its pages."""
    listed = _listed(workspace_id, status=status, search=search).subquery()
    return int(session.exec(select(func.count()).select_from(listed)).one())


def _listed(workspace_id: str, *, status: str | None = None, search: str | None = None,
            created_after: datetime | None = None, created_before: datetime | None = None,
            conditions: Sequence[Condition] = ()) -> SelectOfScalar[Workflow]:
    query = apply(select(Workflow).where(
        Workflow.workspace_id == workspace_id, col(Workflow.deleted_at).is_(None)
    ), WORKFLOW_ATTRIBUTES, conditions)
    if status:
        query = query.where(Workflow.status == status)
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            func.lower(Workflow.title).like(pattern) | func.lower(Workflow.id).like(pattern)
        )
    if created_after:
        query = query.where(Workflow.created_at >= created_after)
    if created_before:
        query = query.where(Workflow.created_at < created_before)
    return query


def get_version(session: Session, version_id: str) -> WorkflowVersion | None:
    return session.get(WorkflowVersion, version_id)


def get_version_by_number(
    session: Session, workflow_id: str, number: int
) -> WorkflowVersion | None:
    query = select(WorkflowVersion).where(
        WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.number == number
    )
    return session.exec(query).first()


class VersionRef(NamedTuple):
    """What a run pins of a published version (its definition is parsed once per process)."""

    id: str
    number: int
    title: str


_VERSION_REF = select(WorkflowVersion.id, WorkflowVersion.number, WorkflowVersion.title).where(
    WorkflowVersion.workflow_id == bindparam("b_id"), WorkflowVersion.number == bindparam("b_n"))


def version_ref(session: Session, workflow_id: str, number: int) -> VersionRef | None:
    """A version's id, number and title, without reading its definition."""
    row = flushed_connection(session).execute(
        _VERSION_REF, {"b_id": workflow_id, "b_n": number}).first()
    return VersionRef(*row) if row is not None else None


def latest_version(session: Session, workflow_id: str) -> WorkflowVersion | None:
    query = (
        select(WorkflowVersion)
        .where(WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.number > 0)
        .order_by(col(WorkflowVersion.number).desc())
    )
    return session.exec(query.limit(1)).first()


def list_versions(session: Session, workflow_id: str) -> Sequence[WorkflowVersion]:
    query = (
        select(WorkflowVersion)
        .where(WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.number > 0)
        .order_by(col(WorkflowVersion.number).desc())
    )
    return session.exec(query).all()


def published_ids(session: Session, workspace_id: str) -> set[str]:
    query = select(Workflow.id).where(
        Workflow.workspace_id == workspace_id,
        col(Workflow.published_number).is_not(None),
        col(Workflow.deleted_at).is_(None),
    )
    return set(session.exec(query).all())


# A test run of an unpublished draft pins a snapshot of it: a version numbered below zero
# (-1, -2, …), which publishing and version lists never see (they take numbers > 0 only).
def next_draft_snapshot_number(session: Session, workflow_id: str) -> int:
    query = select(func.min(WorkflowVersion.number)).where(
        WorkflowVersion.workflow_id == workflow_id, WorkflowVersion.number < 0
    )
    lowest = session.exec(query).one()
    return -1 if lowest is None else int(lowest) - 1


def published_workflows(session: Session, workspace_id: str) -> Sequence[Workflow]:
    """Every published, undeleted workflow of a workspace, newest first."""
    query = (
        select(Workflow)
        .where(Workflow.workspace_id == workspace_id,
               col(Workflow.published_number).is_not(None),
               col(Workflow.deleted_at).is_(None))
        .order_by(col(Workflow.created_at).desc(), col(Workflow.id).desc())
    )
    return session.exec(query).all()


def list_versions_page(session: Session, workflow_id: str, *, limit: int,
                       before: tuple[datetime, str] | None = None) -> Sequence[WorkflowVersion]:
    """Newest first; `before` is the (published_at, id) of the previous page's last row.
    Only published versions (numbered from 1): test-run snapshots are numbered below zero."""
    query = select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow_id,
                                          WorkflowVersion.number > 0)
    if before:
        at, ident = before
        query = query.where(
            (col(WorkflowVersion.published_at) < at)
            | ((col(WorkflowVersion.published_at) == at) & (col(WorkflowVersion.id) < ident))
        )
    query = query.order_by(col(WorkflowVersion.published_at).desc(),
                           col(WorkflowVersion.id).desc())
    return session.exec(query.limit(limit)).all()
