"""The dashboard: counts by status, runs per day, flagged runs, oldest and overdue approvals
(live)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session
from app.services import dashboard
from app.services.dashboard import Overview
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service

WATCH = "dashboard"
REFRESH_S = 3.0


def _overview(workspace_id: str) -> Overview:
    with read_session() as session:
        return dashboard.overview(session, workspace_id=workspace_id)


class DashboardState(AuthState):
    counts: list[dict[str, Any]] = []
    per_day: list[dict[str, Any]] = []
    flagged: list[dict[str, str]] = []
    oldest_approvals: list[dict[str, str]] = []
    total_runs: int = 0
    overdue_count: int = 0
    overdue_approvals: list[dict[str, str]] = []
    loaded: bool = False

    def _set(self, overview: Overview) -> None:
        self.counts = overview.counts
        self.per_day = overview.per_day
        self.flagged = overview.flagged
        self.oldest_approvals = overview.oldest_approvals
        self.total_runs = overview.total_runs
        self.overdue_count = overview.overdue_count
        self.overdue_approvals = overview.overdue_approvals
        self.loaded = True

    def _changed(self, overview: Overview) -> bool:
        return (overview.counts != self.counts or overview.per_day != self.per_day
                or overview.flagged != self.flagged
                or overview.oldest_approvals != self.oldest_approvals
                or overview.overdue_count != self.overdue_count
                or overview.overdue_approvals != self.overdue_approvals)

    @rx.event
    async def open_page(self) -> Any:
        self._set(await call_service(_overview, self.workspace_id))
        return DashboardState.watch

    @rx.event(background=True)
    async def watch(self) -> None:
        token = self.router.session.client_token
        generation = live.begin(token, WATCH)
        try:
            async with live.Waker(min_gap_s=REFRESH_S) as waker:
                while live.is_current(token, WATCH, generation):
                    await waker.wait(REFRESH_S)
                    async with self:
                        if not self.user_id:
                            return
                        workspace_id = self.workspace_id
                    overview = await call_service(_overview, workspace_id)
                    async with self:
                        if self._changed(overview):
                            self._set(overview)
        finally:
            live.end(token, WATCH, generation)
