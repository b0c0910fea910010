"""Form lists and submissions for the pages: rows with counts, a page of submissions with
their runs' statuses, and the CSV export."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.engine.fields import is_file_ref
from app.errors import not_found
from app.models import Form
from app.repo import forms as forms_repo
from app.repo import listings, workflows
from app.services import files

LIST_LIMIT = 500
PAGE_SIZE = 25
EXPORT_MAX_ROWS = 100_000
_EXPORT_BATCH = 1_000
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


@dataclass
class FormRow:
    id: str
    title: str
    slug: str
    is_published: bool
    workflow_id: str | None
    workflow_title: str
    fields: int
    submissions: int
    last_submission_at: datetime | None
    updated_at: datetime


@dataclass
class SubmissionRow:
    id: str
    created_at: datetime
    data: dict[str, Any]
    run_id: str | None
    run_status: str | None
    form_version: int | None = None


@dataclass
class SubmissionPage:
    rows: list[SubmissionRow]
    total: int
    next_before: tuple[datetime, str] | None = None
    columns: list[str] = field(default_factory=list)


def list_form_rows(session: Session, *, workspace_id: str,
                   search: str | None = None) -> list[FormRow]:
    found = forms_repo.list_forms(session, workspace_id=workspace_id, limit=LIST_LIMIT,
                                  search=(search or "").strip() or None)
    stats = listings.submission_stats_by_form(session, workspace_id=workspace_id,
                                              form_ids=[f.id for f in found])
    titles: dict[str, str] = {}
    for form in found:
        if form.workflow_id and form.workflow_id not in titles:
            workflow = workflows.get_workflow(session, form.workflow_id)
            titles[form.workflow_id] = workflow.title if workflow else "(deleted workflow)"
    return [
        FormRow(id=f.id, title=f.title, slug=f.slug, is_published=f.is_published,
                workflow_id=f.workflow_id, workflow_title=titles.get(f.workflow_id or "", ""),
                fields=len(f.fields or []), submissions=stats.get(f.id, (0, None))[0],
                last_submission_at=stats.get(f.id, (0, None))[1], updated_at=f.updated_at)
        for f in found
    ]


def get_form(session: Session, *, workspace_id: str, form_id: str) -> Form:
    form = forms_repo.get_form(session, form_id, workspace_id=workspace_id)
    if form is None:
        raise not_found("form", form_id)
    return form


def submission_page(session: Session, *, workspace_id: str, form_id: str,
                    created_after: datetime | None = None,
                    created_before: datetime | None = None,
                    before: tuple[datetime, str] | None = None,
                    limit: int = PAGE_SIZE) -> SubmissionPage:
    """Newest first; `before` is the (created_at, id) of the previous page's last row."""
    form = get_form(session, workspace_id=workspace_id, form_id=form_id)
    found = list(forms_repo.list_submissions(session, form_id=form.id, limit=limit + 1,
                                             created_after=created_after,
                                             created_before=created_before, before=before))
    more = len(found) > limit
    found = found[:limit]
    statuses = listings.run_statuses(session, workspace_id=workspace_id,
                                     run_ids=[s.run_id for s in found if s.run_id])
    rows = [SubmissionRow(id=s.id, created_at=s.created_at, data=dict(s.data or {}),
                          run_id=s.run_id, run_status=statuses.get(s.run_id or ""),
                          form_version=s.form_version)
            for s in found]
    total = listings.count_submissions(session, form_id=form.id, created_after=created_after,
                                       created_before=created_before)
    last = found[-1] if found else None
    return SubmissionPage(rows=rows, total=total,
                          next_before=(last.created_at, last.id) if more and last else None,
                          columns=_columns(form, rows))


def _columns(form: Form, rows: list[SubmissionRow]) -> list[str]:
    """The form's fields in order, then any older field a submission still carries."""
    names = [str(f.get("name")) for f in form.fields or []]
    for row in rows:
        names += [key for key in row.data if key not in names]
    return names


def file_link(value: Any, *, workspace_id: str) -> str:
    """A signed download path for a file a submission carries ("" for any other value)."""
    if not is_file_ref(value):
        return ""
    return files.download_path(str(value["id"]), workspace_id)


def cell(value: Any) -> str:
    """A submitted value as one line of text for a table cell or CSV (a file: its name)."""
    if value is None:
        return ""
    if is_file_ref(value):
        return str(value.get("name", ""))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def submissions_csv(session: Session, *, workspace_id: str, form_id: str,
                    created_after: datetime | None = None,
                    created_before: datetime | None = None) -> str:
    """Every matching submission (newest first) as CSV: time, id, each field, run, status."""
    form = get_form(session, workspace_id=workspace_id, form_id=form_id)
    rows: list[SubmissionRow] = []
    before = None
    while len(rows) < EXPORT_MAX_ROWS:
        page = submission_page(session, workspace_id=workspace_id, form_id=form.id,
                               created_after=created_after, created_before=created_before,
                               before=before, limit=_EXPORT_BATCH)
        rows += page.rows
        if page.next_before is None:
            break
        before = page.next_before
    columns = _columns(form, rows)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["submitted_at", "submission_id", "form_version", *columns, "run_id",
                     "run_status"])
    for row in rows:
        writer.writerow([row.created_at.isoformat(), row.id, row.form_version or "",
                         *[_safe_csv(cell(row.data.get(c))) for c in columns],
                         row.run_id or "", row.run_status or ""])
    return out.getvalue()


def _safe_csv(text: str) -> str:
    # Anyone can submit a public form: keep spreadsheet apps from running a "=HYPERLINK(…)".
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(text):
        return f"'{text}"
    return text
