"""The run page's Re-run dialog: pick a step and a version, see what runs again (and which
steps reach outside Flowdesk), then start the new run and open it."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.errors import DomainError
from app.models import Actor, StepStatus
from app.services import reruns
from app.ui import routes
from app.ui.states.auth import call_service
from app.ui.states.run import RunState


def _plan(actor: Actor, run_id: str, from_step: str, version: str) -> dict[str, Any]:
    with read_session() as session:
        return reruns.plan(session, actor=actor, run_id=run_id, from_step=from_step,
                           version=version).as_dict()


def _start(actor: Actor, run_id: str, from_step: str, version: str) -> str:
    with write_session() as session:
        started = reruns.rerun(session, actor=actor, run_id=run_id, from_step=from_step,
                               version=version)
        session.commit()
        return started.run.id


class RerunState(RunState):
    rerun_open: bool = False
    rerun_from: str = ""
    rerun_version: str = "pinned"
    rerun_steps: list[dict[str, str]] = []  # key, kind, side_effect
    rerun_kept: list[str] = []
    rerun_number: int = 0
    rerun_error: str = ""
    rerun_busy: bool = False

    def _actor(self) -> Actor:
        return Actor.user(user_id=self.user_id, email=self.email, role=self.role,
                          workspace_id=self.workspace_id)

    @rx.var
    def rerun_side_effects(self) -> list[str]:
        return [s["key"] for s in self.rerun_steps if s.get("side_effect")]

    @rx.event
    async def open_rerun(self) -> None:
        failed = [s.step_key for s in self.run.steps if s.status == StepStatus.FAILED]
        choices = self.run.rerun_choices
        self.rerun_from = failed[-1] if failed else (choices[-1] if choices else "")
        self.rerun_version = "pinned"
        self.rerun_open = True
        await self._preview()

    @rx.event
    def set_rerun_open(self, value: bool) -> None:
        self.rerun_open = value

    @rx.event
    async def choose_from(self, key: str) -> None:
        self.rerun_from = key
        await self._preview()

    @rx.event
    async def choose_version(self, version: str) -> None:
        self.rerun_version = version
        await self._preview()

    async def _preview(self) -> None:
        self.rerun_error = ""
        self.rerun_steps, self.rerun_kept = [], []
        try:
            shown = await call_service(_plan, self._actor(), self.run.id, self.rerun_from,
                                       self.rerun_version)
        except DomainError as exc:
            self.rerun_error = str(exc)
            return
        self.rerun_steps = [{"key": s["key"], "kind": s["kind"],
                             "side_effect": s["side_effect"] or ""} for s in shown["steps"]]
        self.rerun_kept = list(shown["kept_outputs"])
        self.rerun_number = int(shown["version_number"])

    @rx.event
    async def confirm_rerun(self) -> Any:
        self.rerun_busy = True
        self.rerun_error = ""
        yield
        try:
            principal = await self._principal()
            new_id = await call_service(_start, principal.actor, self.run.id, self.rerun_from,
                                        self.rerun_version)
        except DomainError as exc:
            self.rerun_error = str(exc)
            return
        finally:
            self.rerun_busy = False
        self.rerun_open = False
        yield rx.redirect(routes.run_url(new_id))
