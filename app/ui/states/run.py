"""The run timeline page: the run and its steps (live), cancel, retry and skip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.errors import DomainError
from app.models import Actor
from app.services import run_operations, timeline
from app.services.timeline import RunView
from app.ui import routes
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service

WATCH = "run"


def _empty() -> RunView:
    return RunView(id="", workflow_id="", workflow_title="", version_number=0, status="",
                   trigger="", created_by="", created_at="", completed_at="", duration="",
                   error="", input="", outputs="", current_step="", finished=False, steps=[])


def _load(workspace_id: str, run_id: str) -> RunView:
    with read_session() as session:
        return timeline.run_view(session, workspace_id=workspace_id, run_id=run_id)


def _act(action: Callable[..., Any], actor: Actor, **kwargs: str) -> None:
    with write_session() as session:
        action(session, actor=actor, **kwargs)


class RunState(AuthState):
    run: RunView = _empty()
    load_error: str = ""
    action_error: str = ""
    step_errors: dict[str, str] = {}
    busy: str = ""

    def _run_id(self) -> str:
        return routes.path_segment(self.router.url.path)

    @rx.event
    def open_page(self) -> Any:
        self.run = _empty()
        self.load_error = ""
        self.action_error = ""
        self.step_errors = {}
        return RunState.watch

    @rx.event(background=True)
    async def watch(self) -> None:
        token = self.router.session.client_token
        generation = live.begin(token, WATCH)
        try:
            async with live.Waker() as waker:
                while live.is_current(token, WATCH, generation):
                    async with self:
                        if not self.user_id:
                            return
                        workspace_id, run_id = self.workspace_id, self._run_id()
                    try:
                        view = await call_service(_load, workspace_id, run_id)
                    except DomainError as exc:
                        async with self:
                            self.load_error = str(exc)
                        return
                    async with self:
                        if view != self.run:
                            self.run = view
                    await waker.wait()
        finally:
            live.end(token, WATCH, generation)

    async def _do(self, key: str, action: Callable[..., Any], **kwargs: str) -> Any:
        self.busy = key
        self.action_error = ""
        self.step_errors = {}
        yield
        try:
            principal = await self._principal()
            await call_service(_act, action, principal.actor, **kwargs)
            self.run = await call_service(_load, self.workspace_id, self._run_id())
        except DomainError as exc:
            if "step_id" in kwargs:
                self.step_errors[kwargs["step_id"]] = str(exc)
            else:
                self.action_error = str(exc)
        finally:
            self.busy = ""

    @rx.event
    async def cancel_run(self) -> Any:
        async for update in self._do("cancel", run_operations.cancel, run_id=self.run.id):
            yield update

    @rx.event
    async def retry_step(self, step_id: str) -> Any:
        async for update in self._do(f"retry:{step_id}", run_operations.retry, step_id=step_id):
            yield update

    @rx.event
    async def skip_step(self, step_id: str) -> Any:
        async for update in self._do(f"skip:{step_id}", run_operations.skip, step_id=step_id):
            yield update
