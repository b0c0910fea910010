"""The public form page (/f/<slug>): no sign-in; pages with Next and Back (typed values
kept), fields shown by their `show_if` as values are typed (the same evaluator the server
validates with), file uploads within each field's limits, server-side validation with each
field's error, a per-client limit, and a thank-you page following the started run's status."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.engine.fields import FieldSpec, visible_fields
from app.errors import Conflict, DomainError, FieldError, NotFound, RateLimited, ValidationFailed
from app.services import public_forms
from app.services.files import size_text
from app.services.forms import MAX_FILE_FIELDS_PER_PAGE
from app.ui import routes
from app.ui.states.auth import call_service

__all__ = ["MAX_FILE_FIELDS_PER_PAGE", "PublicFormState"]

FOLLOW_RUN_S = 30  # how long the thank-you page follows the run's status
_SETTLED = ("BLOCKED", "FLAGGED", "COMPLETED", "CANCELLED")


def _load(slug: str) -> dict[str, Any]:
    with read_session() as session:
        return asdict(public_forms.load_public_form(session, slug=slug))


def _submit(slug: str, data: dict[str, Any], client: str) -> dict[str, Any]:
    with write_session() as session:
        return asdict(public_forms.submit_public_form(session, slug=slug, data=data,
                                                      client=client))


def _check_page(slug: str, page: int, data: dict[str, Any]) -> list[FieldError]:
    with read_session() as session:
        return public_forms.check_public_page(session, slug=slug, page=page, data=data)


def _upload(slug: str, field: str, name: str, data: bytes, client: str) -> dict[str, Any]:
    with write_session() as session:
        return asdict(public_forms.upload_to_public_form(
            session, slug=slug, field_name=field, name=name, data=data, client=client))


def _file_hint(spec: dict[str, Any]) -> str:
    kinds = ", ".join(spec.get("accept") or []) or "any file"
    limit = spec.get("max_bytes")
    return f"{kinds}, up to {size_text(limit)}" if isinstance(limit, int) else kinds


def _run_status(slug: str, run_id: str) -> str | None:
    with read_session() as session:
        return public_forms.run_status_of_submission(session, slug=slug, run_id=run_id)


class PublicFormState(rx.State):
    form_slug: str = ""
    phase: str = "loading"  # loading | open | closed | missing | thanks
    title: str = ""
    description: str = ""
    fields: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    page_index: int = 0  # 0-based, into the pages that have a field shown
    values: dict[str, str] = {}
    uploads: dict[str, dict[str, str]] = {}  # file field → {"id", "name", "size"}
    uploading: str = ""
    errors: dict[str, str] = {}
    error: str = ""
    submitting: bool = False
    success_message: str = ""
    run_status: str = ""
    _run_id: str = ""

    def _data(self) -> dict[str, Any]:
        data: dict[str, Any] = {k: v for k, v in self.values.items() if v != ""}
        data.update({k: v["id"] for k, v in self.uploads.items()})
        return data

    def _specs(self) -> list[FieldSpec]:
        return [FieldSpec.model_validate(f) for f in self.fields]

    @rx.var
    def shown_names(self) -> list[str]:
        return visible_fields(self._specs(), self._data()) if self.fields else []

    @rx.var
    def live_pages(self) -> list[int]:
        """The page numbers (1 = the first) that have at least one field shown."""
        shown = set(self.shown_names)
        numbers = sorted({int(f.get("page") or 1) for f in self.fields
                          if f.get("name") in shown})
        return numbers or [1]

    @rx.var
    def page_number(self) -> int:
        live = self.live_pages
        return live[min(self.page_index, len(live) - 1)]

    def _on_page(self) -> list[dict[str, Any]]:
        shown = set(self.shown_names)
        return [f for f in self.fields if f.get("name") in shown
                and int(f.get("page") or 1) == self.page_number]

    @rx.var
    def page_fields(self) -> list[dict[str, Any]]:
        """The page's shown fields but its files (those come after, in their own slots)."""
        return [f for f in self._on_page() if f.get("type") != "file"]

    @rx.var
    def page_file_fields(self) -> list[dict[str, Any]]:
        """The page's file fields, each with a hint of what it takes."""
        return [{**f, "hint": _file_hint(f)} for f in self._on_page() if f.get("type") == "file"]

    @rx.var
    def page_title(self) -> str:
        if not self.pages or self.page_number > len(self.pages):
            return ""
        return str(self.pages[self.page_number - 1].get("title", ""))

    @rx.var
    def page_description(self) -> str:
        if not self.pages or self.page_number > len(self.pages):
            return ""
        return str(self.pages[self.page_number - 1].get("description", ""))

    @rx.var
    def is_last_page(self) -> bool:
        return self.page_index >= len(self.live_pages) - 1

    @rx.var
    def progress_text(self) -> str:
        total = len(self.live_pages)
        return f"Page {min(self.page_index, total - 1) + 1} of {total}" if total > 1 else ""

    @rx.event
    def set_value(self, name: str, value: Any) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        self.values = {**self.values, name: text}
        if name in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != name}
            self.error = self.error if self.errors else ""

    def _merge(self, form: dict[str, Any]) -> None:
        names = {str(f.get("name")) for f in self.fields if f.get("type") != "file"}
        typed = {k: ("true" if v is True else str(v)) for k, v in form.items() if k in names}
        self.values = {**self.values, **typed}

    @rx.event
    async def upload_file(self, files: list[rx.UploadFile], slot: int) -> None:
        """Store a file chosen in the page's `slot`-th file field at once (the submission
        refers to it by id)."""
        on_page = self.page_file_fields
        if not files or not 0 <= slot < len(on_page):
            return
        field = str(on_page[slot]["name"])
        self.uploading = field
        try:
            chosen = files[0]
            content = await chosen.read()
            stored = await call_service(_upload, self.form_slug, field,
                                        chosen.filename or "file", content,
                                        self.router.session.client_ip or "unknown")
        except ValidationFailed as exc:
            message = exc.errors[0].message if exc.errors else str(exc)
            label = str(on_page[slot].get("label") or field)
            if message[:1].islower():
                message = f"{chosen.filename or label}: {message}"
            self.errors = {**self.errors, field: message}
            return
        except (RateLimited, Conflict, DomainError) as exc:
            self.errors = {**self.errors, field: str(exc)}
            return
        finally:
            self.uploading = ""
        self.uploads = {**self.uploads, field: {
            "id": stored["id"], "name": stored["name"], "size": size_text(stored["size"])}}
        self.errors = {k: v for k, v in self.errors.items() if k != field}
        self.error = self.error if self.errors else ""

    @rx.event
    def remove_file(self, field: str) -> None:
        self.uploads = {k: v for k, v in self.uploads.items() if k != field}

    @rx.event
    async def next_page(self, form: dict[str, Any]) -> Any:
        """Check this page's fields on the server, then show the next page that has any."""
        self._merge(form)
        problems = await call_service(_check_page, self.form_slug, self.page_number,
                                      self._data())
        if problems:
            self.errors = {e.field: e.message for e in problems}
            self.error = "Please correct the highlighted fields."
            return
        self.errors, self.error = {}, ""
        self.page_index = min(self.page_index + 1, len(self.live_pages) - 1)

    @rx.event
    def back(self) -> None:
        self.errors, self.error = {}, ""
        self.page_index = max(self.page_index - 1, 0)

    @rx.event
    async def submit_or_next(self, form: dict[str, Any]) -> Any:
        if not self.is_last_page:
            yield PublicFormState.next_page(form)
            return
        yield PublicFormState.submit(form)

    @rx.event
    async def load(self) -> None:
        self.form_slug = routes.path_segment(self.router.url.path)
        self.phase, self.errors, self.error, self.values = "loading", {}, "", {}
        self.uploads, self.page_index, self.uploading = {}, 0, ""
        self.run_status, self._run_id = "", ""
        try:
            view = await call_service(_load, self.form_slug)
        except NotFound:
            self.phase, self.title = "missing", "Form not found"
            return
        except Conflict as exc:
            self.phase, self.title, self.error = "closed", "This form is closed", str(exc)
            return
        self.title, self.description = view["title"], view["description"]
        self.fields, self.success_message = view["fields"], view["success_message"]
        self.pages = view["pages"]
        self.phase = "open"

    @rx.event
    async def submit(self, form: dict[str, Any]) -> Any:
        if self.submitting:
            return
        self._merge(form)
        shown = set(self.shown_names)
        data = {k: v for k, v in self._data().items() if k in shown}
        self.submitting, self.error, self.errors = True, "", {}
        yield
        try:
            receipt = await call_service(_submit, self.form_slug, data,
                                         self.router.session.client_ip or "unknown")
        except ValidationFailed as exc:
            self.errors = {e.field: e.message for e in exc.errors}
            self.error = "Please correct the highlighted fields."
            self._go_to_first_error()
            return
        except Conflict as exc:
            self.phase, self.error = "closed", str(exc)
            return
        except (RateLimited, DomainError) as exc:
            self.error = str(exc)
            return
        finally:
            self.submitting = False
        self.success_message = receipt["success_message"]
        self._run_id = receipt["run_id"] or ""
        self.phase = "thanks"
        if self._run_id:
            yield PublicFormState.follow_run

    def _go_to_first_error(self) -> None:
        pages = {str(f.get("name")): int(f.get("page") or 1) for f in self.fields}
        wrong = sorted(pages.get(name, 1) for name in self.errors)
        if wrong and wrong[0] in self.live_pages:
            self.page_index = self.live_pages.index(wrong[0])

    @rx.event(background=True)
    async def follow_run(self) -> None:
        """Show the run's status for a while (until it blocks, flags or finishes)."""
        async with self:
            slug, run_id = self.form_slug, self._run_id
        for _ in range(FOLLOW_RUN_S):
            try:
                status = await call_service(_run_status, slug, run_id) or ""
            except DomainError:
                return
            async with self:
                if self._run_id != run_id:
                    return
                self.run_status = status
            if status in _SETTLED:
                return
            await asyncio.sleep(1)

    @rx.event
    def another(self) -> None:
        self.phase, self.values, self.errors, self.error = "open", {}, {}, ""
        self.run_status, self._run_id = "", ""
        self.uploads, self.page_index = {}, 0
