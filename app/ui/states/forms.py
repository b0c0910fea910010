"""The forms list: search, create (optionally from a workflow's inputs), delete."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import reflex as rx

from app.clock import iso
from app.db import read_session, write_session
from app.errors import DomainError
from app.services import builder, form_builder, forms, permissions, submissions
from app.services.sessions import SignedIn
from app.ui import routes
from app.ui.states.auth import AuthState, call_service


def _rows(workspace_id: str, search: str) -> list[dict[str, Any]]:
    with read_session() as session:
        found = submissions.list_form_rows(session, workspace_id=workspace_id, search=search)
    return [{**asdict(r), "workflow_id": r.workflow_id or "",
             "last_submission_at": iso(r.last_submission_at) or "",
             "updated_at": iso(r.updated_at) or ""} for r in found]


def _workflow_options(workspace_id: str) -> list[dict[str, str]]:
    with read_session() as session:
        return [asdict(c) for c in builder.workflow_choices(session, workspace_id=workspace_id,
                                                            published_only=False)]


class FormsState(AuthState):
    rows: list[dict[str, Any]] = []
    search: str = ""
    loaded: bool = False
    error: str = ""
    workflow_options: list[dict[str, str]] = []
    create_open: bool = False
    create_error: str = ""
    delete_id: str = ""
    delete_title: str = ""

    async def _builder(self) -> SignedIn:
        principal = await self._principal()
        permissions.require(principal.role, permissions.BUILD)
        return principal

    async def _refresh(self) -> None:
        try:
            self.rows = await call_service(_rows, self.workspace_id, self.search)
            self.error = ""
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    async def load(self) -> None:
        self.create_open, self.delete_id = False, ""
        await self._refresh()

    @rx.event
    async def set_search(self, value: str) -> None:
        self.search = value
        await self._refresh()

    @rx.event
    async def open_create(self) -> None:
        self.create_error = ""
        self.workflow_options = await call_service(_workflow_options, self.workspace_id)
        self.create_open = True

    @rx.event
    def close_create(self) -> None:
        self.create_open = False

    @rx.event
    async def create(self, form: dict[str, Any]) -> Any:
        title = str(form.get("title", "")).strip()
        workflow_id = str(form.get("workflow_id", "")) or None
        try:
            principal = await self._builder()

            def create() -> str:
                with write_session() as session:
                    return form_builder.new_form(session, workspace_id=principal.workspace_id,
                                                 actor=principal.actor, title=title,
                                                 workflow_id=workflow_id).id

            form_id = await call_service(create)
        except DomainError as exc:
            self.create_error = str(exc)
            return None
        self.create_open = False
        return rx.redirect(routes.form_url(form_id))

    @rx.event
    def ask_delete(self, form_id: str, title: str) -> None:
        self.delete_id, self.delete_title = form_id, title

    @rx.event
    def cancel_delete(self) -> None:
        self.delete_id = ""

    @rx.event
    async def delete(self) -> None:
        form_id = self.delete_id
        try:
            principal = await self._builder()

            def delete() -> None:
                with write_session() as session:
                    forms.delete_form(session, workspace_id=principal.workspace_id,
                                      form_id=form_id, actor=principal.actor)

            await call_service(delete)
        except DomainError as exc:
            self.error = str(exc)
        self.delete_id = ""
        await self._refresh()
