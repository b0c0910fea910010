"""The inbox's "Out of office" card: name a delegate for a range of days, save or clear."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.clock import utcnow
from app.db import read_session, write_session
from app.errors import DomainError, ValidationFailed
from app.models import Actor
from app.services import out_of_office
from app.services.out_of_office import OutOfOffice
from app.ui.states.auth import AuthState, call_service


def _load(actor: Actor) -> tuple[OutOfOffice | None, list[str]]:
    with read_session() as session:
        return (out_of_office.get_out_of_office(session, actor=actor),
                out_of_office.delegate_choices(session, actor=actor))


def _save(actor: Actor, delegate_email: str, first_day: str, last_day: str) -> OutOfOffice:
    with write_session() as session:
        return out_of_office.set_out_of_office(session, actor=actor,
                                               delegate_email=delegate_email,
                                               starts_at=first_day, ends_at=last_day)


def _clear(actor: Actor) -> None:
    with write_session() as session:
        out_of_office.clear_out_of_office(session, actor=actor)


class OutOfOfficeState(AuthState):
    away_set: bool = False  # a saved setting that has not ended
    away_active: bool = False  # and it is under way now
    away_ends_at: str = ""
    # the saved setting, as the summary shows it
    away_delegate: str = ""
    away_first_day: str = ""  # YYYY-MM-DD (UTC days, inclusive)
    away_last_day: str = ""
    # the form, as typed (copied from the saved setting when it opens)
    delegate_choices: list[str] = []
    delegate_email: str = ""
    first_day: str = ""
    last_day: str = ""
    field_errors: dict[str, str] = {}  # by service field name
    error: str = ""
    editing: bool = False
    saving: bool = False

    def _show(self, shown: OutOfOffice | None) -> None:
        self.away_set = shown is not None
        self.away_active = bool(shown and shown.active)
        self.away_ends_at = shown.ends_at if shown else ""
        self.away_delegate = shown.delegate_email if shown else ""
        self.away_first_day = shown.first_day if shown else ""
        self.away_last_day = shown.last_day if shown else ""
        self.field_errors = {}
        self.error = ""

    @rx.event
    async def load(self) -> None:
        self.editing = False
        if not self.can_decide:
            return
        actor = (await self._principal()).actor
        shown, self.delegate_choices = await call_service(_load, actor)
        self._show(shown)

    @rx.event
    def edit(self) -> None:
        self.editing = True
        self.field_errors, self.error = {}, ""
        self.delegate_email = self.away_delegate or next(iter(self.delegate_choices), "")
        self.first_day = self.away_first_day or utcnow().date().isoformat()
        self.last_day = self.away_last_day

    @rx.event
    def cancel(self) -> None:
        self.editing = False
        self.field_errors = {}
        self.error = ""

    @rx.event
    def set_delegate(self, email: str) -> None:
        self.delegate_email = email
        self.field_errors.pop("delegate_email", None)

    @rx.event
    def set_first_day(self, day: str) -> None:
        self.first_day = day
        self.field_errors.pop("starts_at", None)

    @rx.event
    def set_last_day(self, day: str) -> None:
        self.last_day = day
        self.field_errors.pop("ends_at", None)

    @rx.event
    async def save(self) -> Any:
        self.saving = True
        self.field_errors, self.error = {}, ""
        yield
        try:
            actor = (await self._principal()).actor
            shown = await call_service(_save, actor, self.delegate_email, self.first_day,
                                       self.last_day)
        except ValidationFailed as exc:
            self.field_errors = {e.field: e.message for e in exc.errors}
            self.error = "" if exc.errors else str(exc)
        except DomainError as exc:
            self.error = str(exc)
        else:
            self._show(shown)
            self.editing = False
            yield rx.toast.success(f"Out of office saved: {shown.delegate_email} decides your "
                                   "items in your place.")
        finally:
            self.saving = False

    @rx.event
    async def clear(self) -> Any:
        try:
            actor = (await self._principal()).actor
            await call_service(_clear, actor)
        except DomainError as exc:
            self.error = str(exc)
            return None
        self._show(None)
        self.editing = False
        return rx.toast.success("Welcome back: your items are yours to decide again.")
