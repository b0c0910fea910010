"""The builder's "when a run fails" control: this workflow's error workflow, and (for
admins) the workspace's default."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.errors import DomainError
from app.models import Actor
from app.services import error_workflows
from app.ui.states.auth import call_service
from app.ui.states.builder import BuilderState

DEFAULT = "__default__"  # the select's value for "no setting of its own"


def _choices(actor: Actor, workflow_id: str) -> dict[str, Any]:
    with read_session() as session:
        return error_workflows.choices(session, actor=actor, workflow_id=workflow_id)


def _set(actor: Actor, workflow_id: str, target: str | None) -> None:
    with write_session() as session:
        error_workflows.set_for_workflow(session, actor=actor, workflow_id=workflow_id,
                                         error_workflow_id=target)


def _set_default(actor: Actor, target: str | None) -> None:
    with write_session() as session:
        error_workflows.set_default(session, actor=actor, error_workflow_id=target)


class ErrorWorkflowState(BuilderState):
    ew_current: str = DEFAULT
    ew_default: str = ""
    ew_default_title: str = ""
    ew_options: list[dict[str, str]] = []
    ew_error: str = ""
    ew_notice: str = ""

    @rx.event
    async def load_error_workflow(self) -> None:
        self.ew_error = self.ew_notice = ""
        if not self.wf_id:
            return
        try:
            shown = await call_service(_choices, self._member(), self.wf_id)
        except DomainError as exc:
            self.ew_error = str(exc)
            return
        self.ew_current = shown["current"] or DEFAULT
        self.ew_default, self.ew_default_title = shown["default"], shown["default_title"]
        self.ew_options = shown["options"]

    def _member(self) -> Actor:
        return Actor.user(user_id=self.user_id, email=self.email, role=self.role,
                          workspace_id=self.workspace_id)

    @rx.event
    async def choose_error_workflow(self, value: str) -> None:
        self.ew_error = self.ew_notice = ""
        try:
            principal = await self._principal()
            await call_service(_set, principal.actor, self.wf_id,
                               None if value == DEFAULT else value)
        except DomainError as exc:
            self.ew_error = str(exc)
            return
        self.ew_current = value
        self.ew_notice = "Saved: applies to runs that fail from now on."

    @rx.event
    async def choose_default(self, value: str) -> None:
        self.ew_error = self.ew_notice = ""
        try:
            principal = await self._principal()
            await call_service(_set_default, principal.actor, value or None)
        except DomainError as exc:
            self.ew_error = str(exc)
            return
        self.ew_default = value
        self.ew_default_title = next((o["title"] for o in self.ew_options
                                      if o["id"] == value), "")
        self.ew_notice = "Saved the workspace default."
