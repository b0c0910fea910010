"""The workflow builder page's state: load a draft, save it (refused when stale), publish,
versions (open read-only, restore), the JSON tab and the test-run dialog.

The editing half (canvas, step panel, live validation) is the BuilderEditing mixin.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import reflex as rx

from app.clock import iso
from app.db import read_session, write_session
from app.errors import Conflict, DomainError
from app.services import builder, permissions, workflows
from app.services.sessions import SignedIn
from app.ui import builder_graph as graph
from app.ui import routes
from app.ui.states.auth import AuthState, call_service
from app.ui.states.builder_steps import BuilderEditing, check_draft

TABS = ("canvas", "json", "versions")


def _draft_view(workspace_id: str, workflow_id: str) -> dict[str, Any]:
    with read_session() as session:
        workflow = workflows.get_workflow(session, workspace_id=workspace_id,
                                          workflow_id=workflow_id)
        return {"id": workflow.id, "title": workflow.title,
                "description": workflow.description, "status": workflow.status,
                "version": workflow.version, "published_number": workflow.published_number or 0,
                "definition": dict(workflow.definition or {})}


def _choices(workspace_id: str) -> dict[str, list[dict[str, str]]]:
    with read_session() as session:
        found = {
            "tools": builder.tool_choices(),
            "credentials": builder.credential_choices(session, workspace_id=workspace_id),
            "workflows": builder.workflow_choices(session, workspace_id=workspace_id),
            "assignees": builder.assignee_choices(session, workspace_id=workspace_id),
        }
    return {name: [asdict(c) for c in items] for name, items in found.items()}


def _versions(workspace_id: str, workflow_id: str) -> list[dict[str, Any]]:
    with read_session() as session:
        rows = builder.version_rows(session, workspace_id=workspace_id, workflow_id=workflow_id)
    return [{**asdict(r), "published_at": iso(r.published_at)} for r in rows]


def _builder(principal: SignedIn) -> SignedIn:
    permissions.require(principal.role, permissions.BUILD)
    return principal


class BuilderState(BuilderEditing, AuthState):
    title: str = ""
    description: str = ""
    status: str = ""
    version: int = 0
    published_number: int = 0
    saved_definition: dict[str, Any] = {}
    saved_title: str = ""
    saved_description: str = ""
    loaded: bool = False
    shown_for: str = ""  # the workflow id in the address this state was loaded for
    load_error: str = ""
    error: str = ""
    notice: str = ""
    conflict: str = ""
    busy: str = ""
    tab: str = "canvas"
    json_text: str = ""
    json_error: str = ""
    versions: list[dict[str, Any]] = []
    viewing_number: int = 0
    tools: list[dict[str, str]] = []
    credentials: list[dict[str, str]] = []
    workflow_choices: list[dict[str, str]] = []
    assignee_choices: list[dict[str, str]] = []
    test_open: bool = False
    test_fields: list[dict[str, Any]] = []
    test_errors: dict[str, str] = {}
    test_error: str = ""

    @rx.var
    def dirty(self) -> bool:
        return (self.definition != self.saved_definition or self.title != self.saved_title
                or self.description != self.saved_description)

    @rx.var
    def can_edit(self) -> bool:
        """Builders and admins edit; others see the builder read-only (the service refuses)."""
        return permissions.can(self.role, permissions.BUILD)

    @rx.var
    def can_publish(self) -> bool:
        return (self.loaded and self.can_edit and not self.read_only and not self.problems
                and self.step_count > 0)

    @rx.var
    def shown_json(self) -> str:
        return graph.as_json(self.shown)

    # ----- loading -----
    def _route_id(self) -> str:
        return routes.path_segment(self.router.url.path)

    def _show(self, view: dict[str, Any]) -> None:
        self.wf_id = view["id"]
        self.title = self.saved_title = view["title"]
        self.description = self.saved_description = view["description"]
        self.status = view["status"]
        self.version = view["version"]
        self.published_number = view["published_number"]
        self.definition = view["definition"]
        self.saved_definition = view["definition"]
        self.json_text = graph.as_json(view["definition"])
        self.json_error = ""
        self.read_only = False
        self.view_definition = {}
        self.viewing_number = 0

    @rx.event
    async def load(self) -> None:
        """on_load: the draft named in the URL, its problems, versions and pickers."""
        self.shown_for = self._route_id()
        if self.loaded and self.dirty and self.wf_id == self._route_id():
            # Back on the same workflow with edits not saved yet: keep them (a save still
            # refuses them if the workflow changed meanwhile).
            self.notice = "Your unsaved changes are still here"
            return
        self.loaded = False
        self.load_error = self.error = self.notice = self.conflict = self.busy = ""
        self.edit_error = ""
        self.selected = self.selected_edge = ""
        self.tab = "canvas"
        self.test_open = False
        try:
            view = await call_service(_draft_view, self.workspace_id, self._route_id())
            choices = await call_service(_choices, self.workspace_id)
            versions = await call_service(_versions, self.workspace_id, view["id"])
        except DomainError as exc:
            self.load_error = str(exc)
            return
        self._show(view)
        self.versions = versions
        self.tools = choices["tools"]
        self.credentials = choices["credentials"]
        self.workflow_choices = choices["workflows"]
        self.assignee_choices = choices["assignees"]
        self.problems = await call_service(check_draft, self.workspace_id, self.wf_id,
                                           self.definition)
        self.loaded = True

    @rx.event
    async def reload_latest(self) -> None:
        """After a conflict: drop the local changes and take the stored draft."""
        try:
            view = await call_service(_draft_view, self.workspace_id, self.wf_id)
            self.versions = await call_service(_versions, self.workspace_id, self.wf_id)
        except DomainError as exc:
            self.error = str(exc)
            return
        self._show(view)
        self.conflict = self.error = ""
        self.notice = f"Reloaded the latest draft (version {view['version']})"
        self.problems = await call_service(check_draft, self.workspace_id, self.wf_id,
                                           self.definition)

    # ----- header fields -----
    @rx.event
    def set_title(self, value: str) -> None:
        if not self.read_only:
            self.title = value

    @rx.event
    def set_description(self, value: str) -> None:
        if not self.read_only:
            self.description = value

    @rx.event
    def set_tab(self, value: str) -> None:
        self.tab = value if value in TABS else "canvas"
        if self.tab == "json":
            self.json_text = graph.as_json(self.shown)
            self.json_error = ""

    # ----- save and publish -----
    async def _save(self) -> bool:
        principal = _builder(await self._principal())
        workspace_id, workflow_id, expected = self.workspace_id, self.wf_id, self.version
        title, description, definition = self.title, self.description, self.definition

        def save() -> int:
            with write_session() as session:
                return workflows.save_workflow(
                    session, workspace_id=workspace_id, workflow_id=workflow_id,
                    actor=principal.actor, expected_version=expected, title=title,
                    description=description, definition=definition, allow_invalid=True).version

        try:
            self.version = await call_service(save)
        except Conflict:
            self.conflict = ("This workflow was changed elsewhere (in another tab or through "
                             "the API) since you opened it, so your changes were not saved. "
                             "Reload to get the latest version; copy your JSON first if you "
                             "want to keep your edits.")
            return False
        self.saved_definition = definition
        self.saved_title = title
        self.saved_description = description
        return True

    @rx.event
    async def save(self) -> Any:
        if self.read_only or self.busy:
            return
        self.busy, self.error, self.notice = "save", "", ""
        yield
        try:
            if await self._save():
                self.notice = "Saved" + (" with problems: fix them before publishing"
                                         if self.problems else "")
        except DomainError as exc:
            self.error = str(exc)
        finally:
            self.busy = ""

    @rx.event
    async def publish(self) -> Any:
        if not self.can_publish or self.busy:
            return
        self.busy, self.error, self.notice = "publish", "", ""
        yield
        try:
            if self.dirty and not await self._save():
                return
            principal = _builder(await self._principal())
            workspace_id, workflow_id = self.workspace_id, self.wf_id

            def publish() -> int:
                with write_session() as session:
                    return workflows.publish_workflow(
                        session, workspace_id=workspace_id, workflow_id=workflow_id,
                        actor=principal.actor).number

            number = await call_service(publish)
            self.published_number = number
            self.status = "published"
            self.versions = await call_service(_versions, self.workspace_id, self.wf_id)
            self.notice = f"Published version {number}"
        except DomainError as exc:
            self.error = str(exc)
        finally:
            self.busy = ""

    # ----- the JSON tab -----
    @rx.event
    def set_json_text(self, value: str) -> None:
        self.json_text = value

    @rx.event
    async def apply_json(self) -> None:
        try:
            parsed = json.loads(self.json_text)
        except json.JSONDecodeError as exc:
            self.json_error = f"Not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            return
        if not isinstance(parsed, dict):
            self.json_error = "The definition must be a JSON object"
            return
        self.json_error = ""
        self.selected = self.selected_edge = ""
        await self._apply(parsed)
        self.notice = "Applied the JSON to the draft (not saved yet)"

    # ----- versions -----
    @rx.event
    async def open_version(self, number: int) -> None:
        """Show a published version on the canvas, read-only."""
        workspace_id, workflow_id = self.workspace_id, self.wf_id

        def load() -> dict[str, Any]:
            with read_session() as session:
                return builder.version_definition(session, workspace_id=workspace_id,
                                                  workflow_id=workflow_id, number=number)

        try:
            self.view_definition = await call_service(load)
        except DomainError as exc:
            self.error = str(exc)
            return
        self.read_only = True
        self.viewing_number = number
        self.selected = self.selected_edge = ""
        self.tab = "canvas"

    @rx.event
    def back_to_draft(self) -> None:
        self.read_only = False
        self.view_definition = {}
        self.viewing_number = 0
        self.selected = self.selected_edge = ""

    @rx.event
    async def restore_version(self, number: int) -> Any:
        """Make a published version the draft (refused when the draft changed elsewhere)."""
        if self.busy:
            return
        self.busy, self.error, self.notice = "restore", "", ""
        yield
        try:
            principal = _builder(await self._principal())
            workspace_id, workflow_id, expected = self.workspace_id, self.wf_id, self.version

            def restore() -> None:
                with write_session() as session:
                    builder.restore_version(session, workspace_id=workspace_id,
                                            workflow_id=workflow_id, number=number,
                                            actor=principal.actor, expected_version=expected)

            await call_service(restore)
            view = await call_service(_draft_view, self.workspace_id, self.wf_id)
            self._show(view)
            self.problems = await call_service(check_draft, self.workspace_id, self.wf_id,
                                               self.definition)
            self.selected = self.selected_edge = ""
            self.tab = "canvas"
            self.notice = f"Version {number} is the draft again (saved as version {self.version})"
        except Conflict:
            self.conflict = ("The draft was changed elsewhere since you opened it; reload it "
                             "before restoring a version.")
        except DomainError as exc:
            self.error = str(exc)
        finally:
            self.busy = ""

    # ----- export -----
    @rx.event
    async def export(self) -> Any:
        workspace_id, workflow_id = self.workspace_id, self.wf_id

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

    # ----- test run -----
    @rx.event
    async def open_test(self) -> Any:
        """Save unsaved changes first (a test runs the saved draft), then ask for its input."""
        self.test_error = ""
        self.test_errors = {}
        if self.problems:
            self.error = "Fix the problems before a test run"
            return None
        if self.dirty:
            try:
                if not await self._save():
                    return None
            except DomainError as exc:
                self.error = str(exc)
                return None
        workspace_id, workflow_id = self.workspace_id, self.wf_id

        def fields() -> list[dict[str, Any]]:
            with read_session() as session:
                specs = builder.draft_input_fields(session, workspace_id=workspace_id,
                                                   workflow_id=workflow_id)
            return [s.model_dump(exclude_none=True) for s in specs]

        self.test_fields = await call_service(fields)
        self.test_open = True
        return None

    @rx.event
    def close_test(self) -> None:
        self.test_open = False

    @rx.event
    async def submit_test(self, form: dict[str, Any]) -> Any:
        if self.busy:
            return
        self.busy, self.test_error, self.test_errors = "test", "", {}
        yield
        try:
            principal = await self._principal()
            permissions.require(principal.role, permissions.OPERATE_RUNS)
            workspace_id, workflow_id = self.workspace_id, self.wf_id
            data = {k: v for k, v in form.items() if v not in ("", None)}

            def start() -> str:
                with write_session() as session:
                    return builder.start_draft_test_run(
                        session, workspace_id=workspace_id, workflow_id=workflow_id,
                        actor=principal.actor, input=data).id

            run_id = await call_service(start)
        except DomainError as exc:
            self.test_errors = {e.field.removeprefix("input."): e.message for e in exc.errors}
            self.test_error = exc.detail or str(exc)
            return
        finally:
            self.busy = ""
        self.test_open = False
        yield rx.redirect(routes.run_url(run_id))
