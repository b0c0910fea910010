"""The app shell: the live approvals badge and the phone navigation toggle."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session
from app.errors import DomainError
from app.services import inbox, sessions
from app.services.sessions import SignedIn
from app.ui import routes
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service

BADGE_POLL_S = 1.5


def _check(token: str) -> tuple[SignedIn, int]:
    """The session re-checked (ended elsewhere? role changed?) and the member's badge count."""
    with read_session() as session:
        principal = sessions.resolve(session, token)
        return principal, inbox.count_pending_for(session, actor=principal.actor)


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
    async def watch_badge(self) -> Any:
        """Keep the approvals count current while the tab shows any signed-in page; a session
        ended elsewhere (sign out everywhere, member removed) sends the tab to sign-in."""
        token = self.router.session.client_token
        generation = live.begin(token, "badge")
        try:
            async with live.Waker(live.APPROVAL_TOPICS) as waker:
                while live.is_current(token, "badge", generation):
                    async with self:
                        if not self.user_id:
                            return
                        cookie, workspace_id = self.session_token, self.workspace_id
                    try:
                        principal, count = await call_service(_check, cookie)
                    except DomainError as exc:
                        async with self:
                            self._forget()
                            self.session_notice = str(exc)
                        yield rx.redirect(routes.SIGN_IN, replace=True)
                        return
                    async with self:
                        if principal.workspace_id == workspace_id and principal.role != self.role:
                            self._apply(principal)  # an admin changed this member's role
                        if self.pending_approvals != count:
                            self.pending_approvals = count
                    await waker.wait(BADGE_POLL_S)
        finally:
            live.end(token, "badge", generation)
