"""The workflows list: search and status filter, create, duplicate, delete, import, export."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import reflex as rx

from app.clock import iso
from app.db import read_session, write_session
from app.errors import DomainError
from app.services import builder, permissions, workflows
from app.services.sessions import SignedIn
from app.ui import routes
from app.ui.states.auth import AuthState, call_service

STATUSES = ("all", "draft", "published")
STARTER: dict[str, Any] = {
    "start": "input",
    "steps": {"input": {"kind": "input", "title": "Input", "fields": []}},
    "layout": {"input": {"x": 0, "y": 0}},
}


def _rows(workspace_id: str, search: str, status: str) -> list[dict[str, Any]]:
    with read_session() as session:
        found = builder.list_workflow_rows(session, workspace_id=workspace_id, search=search,
                                           status=None if status == "all" else status)
    rows = []
    for row in found:
        data = asdict(row)
        data["updated_at"] = iso(row.updated_at)
        data["last_run_at"] = iso(row.last_run_at) or ""
        data["published_number"] = row.published_number or 0
        data["runs"] = [{"status": s, "count": n} for s, n in sorted(row.runs_by_status.items())]
        del data["runs_by_status"]
        rows.append(data)
    return rows


class WorkflowsState(AuthState):
    rows: list[dict[str, Any]] = []
    search: str = ""
    status_filter: str = "all"
    loaded: bool = False
    error: str = ""
    create_open: bool = False
    create_error: str = ""
    import_open: bool = False
    import_error: str = ""
    delete_id: str = ""
    delete_title: str = ""
    busy: bool = False

    async def _builder(self) -> SignedIn:
        principal = await self._principal()
        permissions.require(principal.role, permissions.BUILD)
        return principal

    async def _refresh(self) -> None:
        try:
            self.rows = await call_service(_rows, self.workspace_id, self.search,
                                           self.status_filter)
            self.error = ""
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    async def load(self) -> None:
        self.create_open = self.import_open = False
        self.delete_id = ""
        await self._refresh()

    @rx.event
    async def set_search(self, value: str) -> None:
        self.search = value
        await self._refresh()

    @rx.event
    async def set_status_filter(self, value: str | list[str]) -> None:
        self.status_filter = value if isinstance(value, str) and value in STATUSES else "all"
        await self._refresh()

    # ----- create -----
    @rx.event
    def open_create(self) -> None:
        self.create_open, self.create_error = True, ""

    @rx.event
    def close_create(self) -> None:
        self.create_open = False

    @rx.event
    async def create(self, form: dict[str, Any]) -> Any:
        title = str(form.get("title", "")).strip()
        try:
            principal = await self._builder()

            def create() -> str:
                with write_session() as session:
                    return workflows.create_workflow(
                        session, workspace_id=principal.workspace_id, actor=principal.actor,
                        title=title, description=str(form.get("description", "")),
                        definition=STARTER, allow_invalid=True).id

            workflow_id = await call_service(create)
        except DomainError as exc:
            self.create_error = str(exc)
            return None
        self.create_open = False
        return rx.redirect(routes.workflow_url(workflow_id))

    # ----- duplicate, delete -----
    @rx.event
    async def duplicate(self, workflow_id: str) -> Any:
        try:
            principal = await self._builder()

            def duplicate() -> str:
                with write_session() as session:
                    return builder.duplicate_workflow(
                        session, workspace_id=principal.workspace_id,
                        workflow_id=workflow_id, actor=principal.actor).id

            new_id = await call_service(duplicate)
        except DomainError as exc:
            self.error = str(exc)
            return None
        return rx.redirect(routes.workflow_url(new_id))

    @rx.event
    def ask_delete(self, workflow_id: str, title: str) -> None:
        self.delete_id, self.delete_title = workflow_id, title

    @rx.event
    def cancel_delete(self) -> None:
        self.delete_id = ""

    @rx.event
    async def delete(self) -> None:
        workflow_id = self.delete_id
        try:
            principal = await self._builder()

            def delete() -> None:
                with write_session() as session:
                    workflows.delete_workflow(session, workspace_id=principal.workspace_id,
                                              workflow_id=workflow_id, actor=principal.actor)

            await call_service(delete)
        except DomainError as exc:
            self.error = str(exc)
        self.delete_id = ""
        await self._refresh()

    # ----- import, export -----
    @rx.event
    def open_import(self) -> None:
        self.import_open, self.import_error = True, ""

    @rx.event
    def close_import(self) -> None:
        self.import_open = False

    @rx.event
    async def import_json(self, form: dict[str, Any]) -> Any:
        text, title = str(form.get("json", "")), str(form.get("title", ""))
        try:
            principal = await self._builder()

            def create() -> str:
                with write_session() as session:
                    return builder.import_workflow(
                        session, workspace_id=principal.workspace_id, actor=principal.actor,
                        text=text, title=title).id

            workflow_id = await call_service(create)
        except DomainError as exc:
            self.import_error = str(exc)
            return None
        self.import_open = False
        return rx.redirect(routes.workflow_url(workflow_id))

    @rx.event
    async def export(self, workflow_id: str) -> Any:
        workspace_id = self.workspace_id

        def document() -> dict[str, Any]:
            with read_session() as session:
                return builder.export_document(session, workspace_id=workspace_id,
                                               workflow_id=workflow_id)

        try:
            found = await call_service(document)
        except DomainError as exc:
            self.error = str(exc)
            return None
        return rx.download(data=json.dumps(found, indent=2, ensure_ascii=False),
                           filename=f"{workflow_id}.json")
