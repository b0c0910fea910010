"""The runs list as pages show it: filters from form fields, keyset pages, formatted rows."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from app.clock import as_utc, iso
from app.errors import FieldError, ValidationFailed
from app.models import RunStatus
from app.repo import runs as runs_repo
from app.repo import workflows as workflows_repo
from app.repo.runs import RunFilter
from app.services.timeline import format_duration

PAGE_SIZE = 25
MAX_WORKFLOW_CHOICES = 200


@dataclass(frozen=True)
class RunRow:
    id: str
    workflow_id: str
    workflow_title: str
    version_number: int
    status: str
    trigger: str
    current_step: str
    created_at: str
    duration: str
    error: str


@dataclass(frozen=True)
class RunPage:
    rows: list[RunRow]
    next_cursor: str  # empty on the last page


@dataclass(frozen=True)
class RunQuery:
    """Filters as the page's form gives them (strings; empty means no filter)."""

    status: str = ""
    workflow_id: str = ""
    date_from: str = ""  # YYYY-MM-DD, inclusive (UTC)
    date_to: str = ""  # YYYY-MM-DD, inclusive (UTC)
    search: str = ""


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed("Invalid filter", errors=[FieldError(
            field, "must be a date like 2026-01-31")]) from exc


def to_filter(query: RunQuery) -> RunFilter:
    start = _day(query.date_from, "from")
    end = _day(query.date_to, "to")
    if start and end and end < start:
        raise ValidationFailed("Invalid filter", errors=[FieldError(
            "to", "must not be before the from date")])
    if query.status and query.status not in RunStatus.ALL:
        raise ValidationFailed("Invalid filter", errors=[FieldError(
            "status", f"must be one of {', '.join(RunStatus.ALL)}")])
    return RunFilter(
        status=query.status or None,
        workflow_id=query.workflow_id or None,
        created_after=datetime.combine(start, time.min, tzinfo=UTC) if start else None,
        created_before=(datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC)
                        if end else None),
        search=query.search.strip() or None,
    )


def encode_cursor(at: datetime, ident: str) -> str:
    return base64.urlsafe_b64encode(f"{iso(at)}|{ident}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        at, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return as_utc(datetime.fromisoformat(at.replace("Z", "+00:00"))), ident
    except (ValueError, UnicodeDecodeError):
        return None


def list_page(session: Session, *, workspace_id: str, query: RunQuery, cursor: str = "",
              limit: int = PAGE_SIZE) -> RunPage:
    rows = runs_repo.list_runs(session, workspace_id=workspace_id, filters=to_filter(query),
                               limit=limit + 1, before=decode_cursor(cursor))
    more = len(rows) > limit
    rows = list(rows[:limit])
    return RunPage(
        rows=[RunRow(id=r.id, workflow_id=r.workflow_id,
                     workflow_title=r.workflow_title or r.workflow_id,
                     version_number=r.version_number, status=r.status, trigger=r.trigger,
                     current_step=r.current_step or "", created_at=iso(r.created_at) or "",
                     duration=format_duration(r.created_at, r.completed_at),
                     error=(r.error or "")[:200]) for r in rows],
        next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more and rows else "",
    )


def workflow_choices(session: Session, *, workspace_id: str) -> list[dict[str, str]]:
    rows = workflows_repo.list_workflows(session, workspace_id=workspace_id,
                                         limit=MAX_WORKFLOW_CHOICES)
    return sorted(({"id": w.id, "title": w.title} for w in rows), key=lambda w: w["title"])
