"""The runs list: filters, keyset pages (a stack of cursors for Newer), live statuses."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session
from app.errors import DomainError
from app.services import run_lists
from app.services.run_lists import RunPage, RunQuery, RunRow
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service

WATCH = "runs"
ALL = "all"


def _page(workspace_id: str, query: RunQuery, cursor: str) -> RunPage:
    with read_session() as session:
        return run_lists.list_page(session, workspace_id=workspace_id, query=query, cursor=cursor)


def _workflows(workspace_id: str) -> list[dict[str, str]]:
    with read_session() as session:
        return run_lists.workflow_choices(session, workspace_id=workspace_id)


class RunsState(AuthState):
    status: str = ALL
    workflow_id: str = ALL
    date_from: str = ""
    date_to: str = ""
    search: str = ""
    rows: list[RunRow] = []
    next_cursor: str = ""
    cursors: list[str] = [""]  # cursors[-1] is the page shown; [""] is the newest page
    workflows: list[dict[str, str]] = []
    filter_error: str = ""
    loaded: bool = False

    def _query(self) -> RunQuery:
        return RunQuery(status="" if self.status == ALL else self.status,
                        workflow_id="" if self.workflow_id == ALL else self.workflow_id,
                        date_from=self.date_from, date_to=self.date_to, search=self.search)

    @rx.var
    def page_number(self) -> int:
        return len(self.cursors)

    @rx.var
    def has_filters(self) -> bool:
        return (self.status != ALL or self.workflow_id != ALL or bool(self.date_from)
                or bool(self.date_to) or bool(self.search))

    @rx.event
    async def open_page(self) -> Any:
        params = self.router.url.query_parameters
        self.status = params.get("status") or ALL
        self.workflow_id = params.get("workflow_id") or ALL
        self.date_from = params.get("from") or ""
        self.date_to = params.get("to") or ""
        self.search = params.get("search") or ""
        self.cursors = [""]
        self.loaded = False
        self.filter_error = ""
        self.workflows = await call_service(_workflows, self.workspace_id)
        await self._reload()
        return RunsState.watch

    async def _reload(self) -> None:
        try:
            page = await call_service(_page, self.workspace_id, self._query(), self.cursors[-1])
        except DomainError as exc:
            self.filter_error = str(exc)
            self.rows = []
            self.next_cursor = ""
        else:
            self.filter_error = ""
            self.rows = page.rows
            self.next_cursor = page.next_cursor
        self.loaded = True

    async def _refilter(self) -> None:
        self.cursors = [""]
        await self._reload()

    @rx.event
    async def set_status(self, value: str) -> None:
        self.status = value
        await self._refilter()

    @rx.event
    async def set_workflow(self, value: str) -> None:
        self.workflow_id = value
        await self._refilter()

    @rx.event
    async def set_date_from(self, value: str) -> None:
        self.date_from = value
        await self._refilter()

    @rx.event
    async def set_date_to(self, value: str) -> None:
        self.date_to = value
        await self._refilter()

    @rx.event
    async def apply_search(self, form: dict[str, Any]) -> None:
        self.search = str(form.get("search", "")).strip()
        await self._refilter()

    @rx.event
    async def clear_filters(self) -> None:
        self.status = self.workflow_id = ALL
        self.date_from = self.date_to = self.search = ""
        await self._refilter()

    @rx.event
    async def older(self) -> None:
        if self.next_cursor:
            self.cursors.append(self.next_cursor)
            await self._reload()

    @rx.event
    async def newer(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            await self._reload()

    @rx.event(background=True)
    async def watch(self) -> None:
        """Refresh the page shown as runs move (statuses change in place)."""
        token = self.router.session.client_token
        generation = live.begin(token, WATCH)
        try:
            async with live.Waker() as waker:
                while live.is_current(token, WATCH, generation):
                    await waker.wait(2.0)
                    async with self:
                        if not self.user_id:
                            return
                        workspace_id, query, cursor = (self.workspace_id, self._query(),
                                                       self.cursors[-1])
                    try:
                        page = await call_service(_page, workspace_id, query, cursor)
                    except DomainError:
                        continue
                    async with self:
                        # Only if the filters did not change while we were loading.
                        if (self._query(), self.cursors[-1]) == (query, cursor) and (
                                page.rows != self.rows or page.next_cursor != self.next_cursor):
                            self.rows = page.rows
                            self.next_cursor = page.next_cursor
        finally:
            live.end(token, WATCH, generation)
