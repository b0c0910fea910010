"""The app shell: the live approvals badge and the phone navigation toggle."""

from __future__ import annotations

import reflex as rx

from app.db import read_session
from app.services import inbox
from app.services.permissions import Member
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service

BADGE_POLL_S = 1.5


def _count(member: Member) -> int:
    with read_session() as session:
        return inbox.count_pending_for(session, member=member)


class ShellState(AuthState):
    pending_approvals: int = 0
    nav_open: bool = False

    @rx.event
    def toggle_nav(self) -> None:
        self.nav_open = not self.nav_open

    @rx.event
    def close_nav(self) -> None:
        self.nav_open = False

    @rx.event(background=True)
    async def watch_badge(self) -> None:
        """Keep the approvals count current while the tab shows any signed-in page."""
        token = self.router.session.client_token
        generation = live.begin(token, "badge")
        try:
            async with live.Waker() as waker:
                while live.is_current(token, "badge", generation):
                    async with self:
                        if not self.user_id:
                            return
                        member = Member(user_id=self.user_id, email=self.email, role=self.role,
                                        workspace_id=self.workspace_id)
                    count = await call_service(_count, member)
                    async with self:
                        if self.pending_approvals != count:
                            self.pending_approvals = count
                    await waker.wait(BADGE_POLL_S)
        finally:
            live.end(token, "badge", generation)
