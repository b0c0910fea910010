"""A form's submissions (/forms/<id>/submissions): pages of rows, a date filter, CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import reflex as rx

from app.clock import iso
from app.db import read_session
from app.errors import DomainError
from app.services import submissions
from app.ui import routes
from app.ui.states.auth import AuthState, call_service


def _range(date_from: str, date_to: str) -> tuple[datetime | None, datetime | None]:
    """Whole days in UTC: from the start of `date_from` to the end of `date_to`."""
    def day(text: str) -> datetime | None:
        try:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        except ValueError:
            return None

    start, end = day(date_from), day(date_to)
    return start, end + timedelta(days=1) if end else None


def _cursor(text: str) -> tuple[datetime, str] | None:
    at, _, ident = text.partition("|")
    return (datetime.fromisoformat(at), ident) if at and ident else None


def _page(workspace_id: str, form_id: str, date_from: str, date_to: str,
          cursor: str) -> dict[str, Any]:
    after, before = _range(date_from, date_to)
    with read_session() as session:
        form = submissions.get_form(session, workspace_id=workspace_id, form_id=form_id)
        page = submissions.submission_page(session, workspace_id=workspace_id, form_id=form_id,
                                           created_after=after, created_before=before,
                                           before=_cursor(cursor))
        title = form.title
    rows = [{"id": r.id, "created_at": iso(r.created_at) or "", "run_id": r.run_id or "",
             "run_status": r.run_status or "",
             "version": f"v{r.form_version}" if r.form_version else "draft",
             "cells": [{"text": submissions.cell(r.data.get(c)),
                        "href": submissions.file_link(r.data.get(c),
                                                      workspace_id=workspace_id)}
                       for c in page.columns]}
            for r in page.rows]
    nxt = f"{page.next_before[0].isoformat()}|{page.next_before[1]}" if page.next_before else ""
    return {"title": title, "rows": rows, "columns": page.columns, "total": page.total,
            "next": nxt}


def _csv(workspace_id: str, form_id: str, date_from: str, date_to: str) -> str:
    after, before = _range(date_from, date_to)
    with read_session() as session:
        return submissions.submissions_csv(session, workspace_id=workspace_id, form_id=form_id,
                                           created_after=after, created_before=before)


class SubmissionsState(AuthState):
    fid: str = ""
    form_title: str = ""
    columns: list[str] = []
    rows: list[dict[str, Any]] = []
    total: int = 0
    date_from: str = ""
    date_to: str = ""
    # Keyset cursors: the one each page so far was fetched with ("" for the first).
    cursors: list[str] = [""]
    next_cursor: str = ""
    loaded: bool = False
    error: str = ""

    @rx.var
    def page_number(self) -> int:
        return len(self.cursors)

    async def _fetch(self, cursor: str) -> bool:
        try:
            found = await call_service(_page, self.workspace_id, self.fid, self.date_from,
                                       self.date_to, cursor)
        except DomainError as exc:
            self.error = str(exc)
            return False
        self.form_title, self.rows, self.columns = found["title"], found["rows"], found["columns"]
        self.total, self.next_cursor, self.error = found["total"], found["next"], ""
        return True

    @rx.event
    async def load(self) -> None:
        self.fid = routes.path_segment(self.router.url.path, 2)
        self.cursors, self.loaded = [""], False
        await self._fetch("")
        self.loaded = True

    @rx.event
    async def next_page(self) -> None:
        target = self.next_cursor
        if target and await self._fetch(target):
            self.cursors = [*self.cursors, target]

    @rx.event
    async def prev_page(self) -> None:
        if len(self.cursors) > 1 and await self._fetch(self.cursors[-2]):
            self.cursors = self.cursors[:-1]

    @rx.event
    async def set_date_from(self, value: str) -> None:
        self.date_from, self.cursors = value, [""]
        await self._fetch("")

    @rx.event
    async def set_date_to(self, value: str) -> None:
        self.date_to, self.cursors = value, [""]
        await self._fetch("")

    @rx.event
    async def clear_dates(self) -> None:
        self.date_from, self.date_to, self.cursors = "", "", [""]
        await self._fetch("")

    @rx.event
    async def export_csv(self) -> Any:
        try:
            text = await call_service(_csv, self.workspace_id, self.fid, self.date_from,
                                      self.date_to)
        except DomainError as exc:
            self.error = str(exc)
            return None
        return rx.download(data=text, filename=f"{self.fid}-submissions.csv")
