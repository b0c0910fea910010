"""The session of a browser tab: sign-in, sign-out, the on_load guard and role capabilities.

Page states subclass `AuthState`, so they read `self.workspace_id`, `self.role`, … directly
and call `await self._principal()` (the cookie re-checked against the database) before acting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx

from app.db import read_session, write_session
from app.errors import DomainError, Unauthorized
from app.services import permissions, sessions
from app.services.sessions import SignedIn
from app.settings import get_settings
from app.ui import routes

T = TypeVar("T")


async def call_service(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def _resolve(token: str) -> SignedIn:
    with read_session() as session:
        return sessions.resolve(session, token)


class AuthState(rx.State):
    """Who is signed in, in which workspace, with which role (primitives only)."""

    session_token: str = rx.Cookie(
        "", name=sessions.COOKIE_NAME, max_age=sessions.SESSION_MAX_AGE_S, same_site="lax",
        secure=get_settings().public_url.startswith("https://") or None,
    )
    user_id: str = ""
    email: str = ""
    user_name: str = ""
    role: str = ""
    workspace_id: str = ""
    workspace_name: str = ""
    workspaces: list[dict[str, str]] = []
    # The sign-in form
    sign_in_error: str = ""
    signing_in: bool = False
    # Set when the guard sent the tab to sign-in because the session ended.
    session_notice: str = ""

    # ----- capabilities the pages show or hide controls by -----
    @rx.var
    def signed_in(self) -> bool:
        return bool(self.user_id)

    @rx.var
    def can_decide(self) -> bool:
        return permissions.can(self.role, permissions.DECIDE_APPROVALS)

    @rx.var
    def can_operate(self) -> bool:
        return permissions.can(self.role, permissions.OPERATE_RUNS)

    @rx.var
    def can_build(self) -> bool:
        return permissions.can(self.role, permissions.BUILD)

    @rx.var
    def can_see_settings(self) -> bool:
        return permissions.can(self.role, permissions.SEE_SETTINGS)

    @rx.var
    def can_manage_members(self) -> bool:
        return permissions.can(self.role, permissions.MANAGE_MEMBERS)

    @rx.var
    def has_several_workspaces(self) -> bool:
        return len(self.workspaces) > 1

    # ----- helpers for subclasses (underscore: not event handlers) -----
    def _apply(self, principal: SignedIn) -> None:
        self.user_id = principal.user_id
        self.email = principal.email
        self.user_name = principal.name
        self.role = principal.role
        self.workspace_id = principal.workspace_id
        self.workspace_name = principal.workspace_name
        self.workspaces = [{"id": w.id, "name": w.name, "role": w.role}
                           for w in principal.workspaces]

    def _forget(self) -> None:
        self.user_id = self.email = self.user_name = self.role = ""
        self.workspace_id = self.workspace_name = ""
        self.workspaces = []

    def _here(self) -> str:
        url = self.router.url
        return f"{url.path}?{url.query}" if url.query else str(url.path)

    async def _principal(self) -> SignedIn:
        """The signed-in member, re-checked now (a removed member or ended session fails)."""
        principal = await call_service(_resolve, self.session_token)
        if principal.workspace_id != self.workspace_id and self.workspace_id:
            # The tab shows another workspace than the cookie names (switched in another tab).
            raise Unauthorized("You switched workspace in another tab; reload this page")
        return principal

    # ----- events -----
    @rx.event
    async def require_session(self) -> Any:
        """on_load guard of every signed-in page: redirect to sign-in without a valid session."""
        try:
            principal = await call_service(_resolve, self.session_token)
        except DomainError as exc:
            had_session = bool(self.session_token)
            self._forget()
            self.session_notice = str(exc) if had_session else ""
            return rx.redirect(routes.sign_in_url(self._here()), replace=True)
        self._apply(principal)
        from app.ui.states.shell import ShellState

        return ShellState.watch_badge

    @rx.event
    async def require_capability_settings(self) -> Any:
        """on_load after require_session on settings pages: others go to the dashboard."""
        if self.signed_in and not self.can_see_settings:
            return rx.redirect(routes.DASHBOARD, replace=True)
        return None

    @rx.event
    async def open_sign_in(self) -> Any:
        """on_load of the sign-in page: a tab already signed in goes straight on."""
        self.sign_in_error = ""
        self.signing_in = False
        if not self.session_token:
            return None
        try:
            principal = await call_service(_resolve, self.session_token)
        except DomainError:
            return None
        self._apply(principal)
        return rx.redirect(self._next_path(), replace=True)

    def _next_path(self) -> str:
        return routes.safe_next(self.router.url.query_parameters.get("next"))

    @rx.event
    async def sign_in(self, form: dict[str, Any]) -> Any:
        email = str(form.get("email", "")).strip()
        password = str(form.get("password", ""))
        if not email or not password:
            self.sign_in_error = "Enter your email and password"
            return
        self.signing_in = True
        self.sign_in_error = ""
        yield
        try:
            token, principal = await call_service(self._start, email, password)
        except DomainError as exc:
            self.signing_in = False
            self.sign_in_error = str(exc)
            return
        self.session_token = token
        self.session_notice = ""
        self._apply(principal)
        self.signing_in = False
        yield rx.redirect(self._next_path(), replace=True)

    @staticmethod
    def _start(email: str, password: str) -> tuple[str, SignedIn]:
        with write_session() as session:
            return sessions.start_session(session, email=email, password=password)

    def _signed_out(self) -> list[Any]:
        self.session_token = ""
        self._forget()
        return [rx.remove_cookie(sessions.COOKIE_NAME, {"path": "/"}),
                rx.redirect(routes.SIGN_IN, replace=True)]

    @rx.event
    def sign_out(self) -> Any:
        return self._signed_out()

    @rx.event
    async def sign_out_everywhere(self) -> Any:
        token = self.session_token

        def bump() -> None:
            with write_session() as session:
                sessions.sign_out_everywhere(session, token=token)

        try:
            await call_service(bump)
        except DomainError:
            pass
        return self._signed_out()

    @rx.event
    async def switch_workspace(self, workspace_id: str) -> Any:
        token = self.session_token

        def switch() -> tuple[str, SignedIn]:
            with read_session() as session:
                return sessions.switch_workspace(session, token=token, workspace_id=workspace_id)

        try:
            new_token, principal = await call_service(switch)
        except DomainError as exc:
            return rx.toast.error(str(exc))
        self.session_token = new_token
        self._apply(principal)
        from app.ui.states.dashboard import DashboardState
        from app.ui.states.shell import ShellState

        if str(self.router.url.path).rstrip("/") == routes.DASHBOARD.rstrip("/"):
            # Already on the dashboard: a redirect to the same path would not reload it.
            return [DashboardState.open_page, ShellState.watch_badge]
        return rx.redirect(routes.DASHBOARD)


def guarded(*events: Any) -> list[Any]:
    """The on_load of a signed-in page: the session guard first, then the page's own loads.

        app.add_page(page, route=routes.RUNS, on_load=guarded(RunsState.load))
    """
    return [AuthState.require_session, *events]
