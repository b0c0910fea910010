"""The form builder (/forms/<id>): fields with a live preview, the workflow it starts and how
its fields map onto the workflow's inputs, publish and unpublish; saves refused when stale."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.errors import Conflict, DomainError, ValidationFailed
from app.services import builder, form_builder, permissions, submissions
from app.services.forms import has_unpublished_changes, update_form
from app.ui import builder_edits as edits
from app.ui import routes
from app.ui.states.auth import AuthState, call_service

SETTINGS = ("title", "description", "slug", "success_message")


def _form_view(workspace_id: str, form_id: str) -> dict[str, Any]:
    with read_session() as session:
        form = submissions.get_form(session, workspace_id=workspace_id, form_id=form_id)
        return {"id": form.id, "title": form.title, "description": form.description,
                "slug": form.slug, "success_message": form.success_message,
                "workflow_id": form.workflow_id or "", "field_map": dict(form.field_map or {}),
                "fields": [dict(f) for f in form.fields or []],
                "pages": [dict(p) for p in form.pages or []],
                "is_published": form.is_published, "version": form.version,
                "published_version": form.published_version or 0,
                "has_unpublished_changes": has_unpublished_changes(session, form)}


def _workflow_side(workspace_id: str, workflow_id: str, fields: list[dict[str, Any]],
                   field_map: dict[str, str]) -> tuple[list[str], list[str]]:
    """(the workflow's input names, mapping warnings) for the form as edited."""
    with read_session() as session:
        inputs = form_builder.workflow_inputs(session, workspace_id=workspace_id,
                                              workflow_id=workflow_id or None)
        warnings = form_builder.mapping_warnings(session, workspace_id=workspace_id,
                                                 fields=fields, workflow_id=workflow_id or None,
                                                 field_map=field_map)
    return [spec.name for spec in inputs], warnings


def _workflow_options(workspace_id: str) -> list[dict[str, str]]:
    with read_session() as session:
        return [asdict(c) for c in builder.workflow_choices(session, workspace_id=workspace_id,
                                                            published_only=False)]


_FIELD_PATH = re.compile(r"^fields\[(\d+)\](?:\.(\w+))?")


def _problems(exc: ValidationFailed) -> tuple[str, dict[str, str]]:
    """The message over the page, and each field's problems by its index (shown under it);
    the draft's fields are listed page by page, as the service checks them."""
    by_field: dict[str, list[str]] = {}
    others = []
    for problem in exc.errors:
        match = _FIELD_PATH.match(problem.field)
        if match:
            prop = f"{match.group(2)}: " if match.group(2) else ""
            by_field.setdefault(match.group(1), []).append(prop + problem.message)
        else:
            others.append(f"{problem.field}: {problem.message}")
    summary = "; ".join([str(exc), *others]) if others else (
        f"{exc}: see the fields marked below")
    return summary, {index: "; ".join(items) for index, items in by_field.items()}


class FormBuilderState(AuthState):
    fid: str = ""
    settings: dict[str, str] = {}
    fields: list[dict[str, Any]] = []
    workflow_id: str = ""
    field_map: dict[str, str] = {}
    pages: list[dict[str, str]] = []
    is_published: bool = False
    published_version: int = 0
    has_unpublished_changes: bool = False
    version: int = 0
    saved: dict[str, Any] = {}
    workflow_inputs: list[str] = []
    warnings: list[str] = []
    workflow_options: list[dict[str, str]] = []
    loaded: bool = False
    shown_for: str = ""  # the form id in the address this state was loaded for
    load_error: str = ""
    error: str = ""
    notice: str = ""
    conflict: str = ""
    busy: bool = False
    field_problems: dict[str, str] = {}  # a refused save's messages by field index

    def _snapshot(self) -> dict[str, Any]:
        return {"settings": self.settings, "fields": self.fields, "pages": self.pages,
                "workflow_id": self.workflow_id, "field_map": self.field_map}

    @rx.var
    def dirty(self) -> bool:
        return self.loaded and self._snapshot() != self.saved

    @rx.var
    def field_rows(self) -> list[dict[str, str]]:
        return edits.field_rows(self.fields)

    @rx.var
    def mapping_rows(self) -> list[dict[str, str]]:
        names = [str(f.get("name", "")) for f in self.fields]
        return [{"field": n, "target": self.field_map.get(n, n)} for n in names]

    @rx.var
    def public_path(self) -> str:
        return routes.public_form_url(self.settings.get("slug", ""))

    def _show(self, view: dict[str, Any]) -> None:
        self.fid = view["id"]
        self.settings = {name: str(view[name]) for name in SETTINGS}
        self.fields = view["fields"]
        self.workflow_id = view["workflow_id"]
        self.field_map = view["field_map"]
        self.pages = [{"title": str(p.get("title", "")),
                       "description": str(p.get("description", ""))} for p in view["pages"]]
        self.is_published = view["is_published"]
        self.published_version = view["published_version"]
        self.has_unpublished_changes = view["has_unpublished_changes"]
        self.version = view["version"]
        self.saved = self._snapshot()

    async def _recheck(self) -> None:
        self.workflow_inputs, self.warnings = await call_service(
            _workflow_side, self.workspace_id, self.workflow_id, self.fields, self.field_map)

    @rx.event
    async def load(self) -> None:
        self.loaded = False
        self.load_error = self.error = self.notice = self.conflict = ""
        form_id = self.shown_for = routes.path_segment(self.router.url.path)
        try:
            view = await call_service(_form_view, self.workspace_id, form_id)
            self.workflow_options = await call_service(_workflow_options, self.workspace_id)
        except DomainError as exc:
            self.load_error = str(exc)
            return
        self._show(view)
        await self._recheck()
        self.loaded = True

    # ----- edits -----
    @rx.event
    def set_setting(self, name: str, value: str) -> None:
        if name in SETTINGS:
            self.settings = {**self.settings, name: value}

    @rx.event
    async def edit_field(self, action: str, index: int, prop: str, value: Any) -> None:
        old_name = self.fields[index].get("name") if 0 <= index < len(self.fields) else None
        self.fields = edits.edit_fields(self.fields, action, index, prop, value)
        if prop == "name" and old_name in self.field_map:
            # The mapping follows a renamed field.
            mapping = dict(self.field_map)
            mapping[str(self.fields[index]["name"])] = mapping.pop(str(old_name))
            self.field_map = mapping
        await self._recheck()

    @rx.event
    def add_page(self) -> None:
        # A one-page form that gets pages starts with its fields on page 1 of two.
        count = max(len(self.pages), 1) + 1
        titles = [p["title"] for p in self.pages] or ["Page 1"]
        self.pages = [{"title": t, "description": ""} for t in titles] + [
            {"title": f"Page {count}", "description": ""}]

    @rx.event
    def set_page_title(self, index: int, title: str) -> None:
        self.pages = [{**p, "title": title} if i == index else p
                      for i, p in enumerate(self.pages)]

    @rx.event
    def remove_page(self, index: int) -> None:
        """Drop a page; its fields move to the page before it (later pages move up)."""
        self.pages = [p for i, p in enumerate(self.pages) if i != index]
        removed = index + 1
        moved = []
        for spec in self.fields:
            page = int(spec.get("page") or 1) if str(spec.get("page") or 1).isdigit() else 1
            spec = {k: v for k, v in spec.items() if k != "page"}
            page = page - 1 if page >= removed and page > 1 else page
            if page > 1 and len(self.pages) > 1:
                spec["page"] = page
            moved.append(spec)
        self.fields = moved
        if len(self.pages) == 1:
            self.pages = []

    @rx.event
    async def set_workflow(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.field_map = {}
        await self._recheck()

    @rx.event
    async def set_mapping(self, field: str, target: str) -> None:
        mapping = {k: v for k, v in self.field_map.items() if k != field}
        if target and target != field:
            mapping[field] = target
        self.field_map = mapping
        await self._recheck()

    @rx.event
    async def use_workflow_fields(self) -> None:
        """Replace the fields with the workflow's input fields (names, types, rules)."""
        workspace_id, workflow_id = self.workspace_id, self.workflow_id

        def inputs() -> list[dict[str, Any]]:
            with read_session() as session:
                specs = form_builder.workflow_inputs(session, workspace_id=workspace_id,
                                                     workflow_id=workflow_id)
            return [s.model_dump(exclude_none=True) for s in specs]

        self.fields = await call_service(inputs)
        self.field_map = {}
        await self._recheck()

    # ----- save, publish -----
    async def _save(self, **extra: Any) -> bool:
        principal = await self._principal()
        permissions.require(principal.role, permissions.BUILD)
        workspace_id, form_id, expected = self.workspace_id, self.fid, self.version
        changes = {**self.settings, "fields": self.fields, "pages": self.pages,
                   "workflow_id": self.workflow_id or None, "field_map": self.field_map,
                   **extra}

        def save() -> dict[str, Any]:
            with write_session() as session:
                update_form(session, workspace_id=workspace_id, form_id=form_id,
                            actor=principal.actor, expected_version=expected, **changes)
            return _form_view(workspace_id, form_id)

        try:
            view = await call_service(save)
        except Conflict:
            self.conflict = ("This form was changed elsewhere (another tab or the API) since "
                             "you opened it, so your changes were not saved. Reload to get "
                             "the latest version.")
            return False
        self._show(view)
        return True

    async def _run(self, done: str, **extra: Any) -> Any:
        if self.busy:
            return
        self.busy, self.error, self.notice = True, "", ""
        yield
        self.field_problems = {}
        try:
            if await self._save(**extra):
                self.notice = done
        except ValidationFailed as exc:
            self.error, self.field_problems = _problems(exc)
        except DomainError as exc:
            self.error = str(exc)
        finally:
            self.busy = False

    @rx.event
    async def save(self) -> Any:
        async for update in self._run("Saved"):
            yield update

    @rx.event
    async def set_published(self, published: bool) -> Any:
        message = "Published: anyone with the link can submit it" if published else \
            "Unpublished: the link now says the form is closed"
        async for update in self._run(message, is_published=published):
            yield update

    @rx.event
    async def reload_latest(self) -> None:
        self.conflict = ""
        await self.load()
