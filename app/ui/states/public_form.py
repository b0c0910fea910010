"""The public form page (/f/<slug>): no sign-in; server-side validation with each field's
error, a per-client limit, and a thank-you page following the started run's status."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.errors import Conflict, DomainError, NotFound, RateLimited, ValidationFailed
from app.services import public_forms
from app.ui import routes
from app.ui.states.auth import call_service

FOLLOW_RUN_S = 30  # how long the thank-you page follows the run's status
_SETTLED = ("BLOCKED", "FLAGGED", "COMPLETED", "CANCELLED")


def _load(slug: str) -> dict[str, Any]:
    with read_session() as session:
        return asdict(public_forms.load_public_form(session, slug=slug))


def _submit(slug: str, data: dict[str, Any], client: str) -> dict[str, Any]:
    with write_session() as session:
        return asdict(public_forms.submit_public_form(session, slug=slug, data=data,
                                                      client=client))


def _run_status(slug: str, run_id: str) -> str | None:
    with read_session() as session:
        return public_forms.run_status_of_submission(session, slug=slug, run_id=run_id)


class PublicFormState(rx.State):
    form_slug: str = ""
    phase: str = "loading"  # loading | open | closed | missing | thanks
    title: str = ""
    description: str = ""
    fields: list[dict[str, Any]] = []
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    error: str = ""
    submitting: bool = False
    success_message: str = ""
    run_status: str = ""
    _run_id: str = ""

    @rx.event
    async def load(self) -> None:
        self.form_slug = routes.path_segment(self.router.url.path)
        self.phase, self.errors, self.error, self.values = "loading", {}, "", {}
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
        self.phase = "open"

    @rx.event
    async def submit(self, form: dict[str, Any]) -> Any:
        if self.submitting:
            return
        names = {str(f.get("name")) for f in self.fields}
        data = {k: v for k, v in form.items() if k in names and v not in ("", None)}
        self.values = {k: str(v) for k, v in data.items()}
        self.submitting, self.error, self.errors = True, "", {}
        yield
        try:
            receipt = await call_service(_submit, self.form_slug, data,
                                         self.router.session.client_ip or "unknown")
        except ValidationFailed as exc:
            self.errors = {e.field: e.message for e in exc.errors}
            self.error = "Please correct the highlighted fields."
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
