"""The Schedules page of a workflow: its schedules, a form with a live preview of the cron
expression that creates one or edits one, pause/resume, run now, delete, and the fire history of
the one selected."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import reflex as rx

from app.errors import DomainError, ValidationFailed
from app.models import MissedPolicy
from app.services import permissions, schedules
from app.ui import routes
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service
from app.ui.states.schedule_data import (
    FireRow,
    ScheduleRow,
    form_input,
    in_zone,
    load_for_edit,
    load_history,
    load_page,
    load_rows,
    save_changes,
    save_new,
    start_now,
    write,
)

WATCH = "schedules"
WATCH_INTERVAL_S = 2.0
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
    "Europe/Rome", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw", "Europe/Athens",
    "Europe/Istanbul", "Europe/Moscow", "Africa/Lagos", "Africa/Johannesburg", "Asia/Dubai",
    "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Asia/Seoul",
    "Australia/Sydney", "Pacific/Auckland", "America/Sao_Paulo", "America/New_York",
    "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Mexico_City",
    "America/Toronto",
)
BROWSER_ZONE_JS = "Intl.DateTimeFormat().resolvedOptions().timeZone"


class SchedulesState(AuthState):
    shown_for: str = ""  # the workflow id in the address this state was loaded for
    wf_id: str = ""
    workflow_title: str = ""
    published: bool = False
    loaded: bool = False
    load_error: str = ""
    rows: list[ScheduleRow] = []
    input_fields: list[dict[str, Any]] = []
    # The form: cron, zone and policy are controlled (the preview follows them); name and input
    # fields are uncontrolled, so a new form_key remounts them with the edit_* values
    editing_id: str = ""  # the schedule the form edits; empty for a new one
    form_key: int = 0
    edit_name: str = ""
    edit_input: dict[str, str] = {}
    _zone_before_edit: str = ""
    cron: str = ""
    timezone: str = "UTC"
    zones: list[str] = list(COMMON_ZONES)
    policy: str = MissedPolicy.SKIP
    preview_words: str = ""
    preview_times: list[str] = []
    cron_error: str = ""
    zone_error: str = ""
    field_errors: dict[str, str] = {}
    form_error: str = ""
    busy: str = ""
    # Per schedule
    row_errors: dict[str, str] = {}
    started_run: str = ""
    started_for: str = ""
    selected_id: str = ""
    history: list[FireRow] = []
    history_error: str = ""

    @rx.var
    def selected_name(self) -> str:
        return next((r.name for r in self.rows if r.id == self.selected_id), "")

    @rx.var
    def can_run(self) -> bool:
        return permissions.can(self.role, permissions.OPERATE_RUNS)

    # ----- loading -----
    @rx.event
    async def load(self) -> Any:
        workflow_id = routes.path_segment(self.router.url.path, from_end=2)
        if workflow_id != self.wf_id:
            self.selected_id, self.history = "", []
            self._new_form()
        self.loaded, self.load_error, self.form_error = False, "", ""
        self.cron_error = self.zone_error = self.history_error = ""
        self.field_errors, self.row_errors = {}, {}
        self.started_run = self.started_for = ""
        try:
            page = await call_service(load_page, self.workspace_id, workflow_id)
        except DomainError as exc:
            self.load_error = str(exc)
            self.shown_for = workflow_id
            return None
        self.wf_id = workflow_id
        self.workflow_title, self.published = page["title"], page["published"]
        self.input_fields, self.rows = page["fields"], page["rows"]
        if self.selected_id:
            await self._load_history()
        self.loaded = True
        self.shown_for = workflow_id
        return [rx.call_script(BROWSER_ZONE_JS, callback=SchedulesState.take_browser_zone),
                SchedulesState.watch]

    @rx.event
    def take_browser_zone(self, zone: Any) -> None:
        """Default the zone to the browser's (once per page visit, before any choice)."""
        if not isinstance(zone, str) or not zone or self.cron:
            return
        try:
            ZoneInfo(zone)
        except (ValueError, KeyError):
            return
        if zone not in self.zones:
            self.zones = [zone, *self.zones]
        self.timezone = zone
        self._preview()

    async def _reload_rows(self) -> None:
        try:
            self.rows = await call_service(load_rows, self.workspace_id, self.wf_id)
        except DomainError as exc:
            self.form_error = str(exc)

    # ----- the form and its preview -----
    def _preview(self) -> None:
        self.cron_error = self.zone_error = self.preview_words = ""
        self.preview_times = []
        if not self.cron.strip():
            return
        try:
            shown = schedules.timing(self.cron, self.timezone)
        except ValidationFailed as exc:
            for problem in exc.errors:
                if problem.field == "timezone":
                    self.zone_error = problem.message
                else:
                    self.cron_error = problem.message
            return
        except DomainError as exc:
            self.cron_error = str(exc)
            return
        self.preview_words = shown.description
        self.preview_times = [in_zone(t, self.timezone) for t in shown.next_fire_times]

    @rx.event
    def set_cron(self, value: str) -> None:
        self.cron = str(value)[:200]
        self._preview()

    @rx.event
    def set_timezone(self, value: str) -> None:
        self.timezone = str(value)
        self._preview()

    @rx.event
    def set_policy(self, value: str) -> None:
        self.policy = value if value in MissedPolicy.ALL else MissedPolicy.SKIP

    def _show_errors(self, exc: DomainError) -> None:
        fields: dict[str, str] = {}
        for problem in exc.errors:
            if problem.field == "cron":
                self.cron_error = problem.message
            elif problem.field == "timezone":
                self.zone_error = problem.message
            else:
                fields[problem.field] = problem.message
        self.field_errors = fields
        self.form_error = exc.detail or str(exc)
        if "workflow_id" in fields:
            self.form_error = fields.pop("workflow_id")

    def _new_form(self) -> None:
        """Back to an empty new-schedule form (the zone as it was before editing)."""
        if self.editing_id:
            self.form_key += 1
            self.timezone = self._zone_before_edit or self.timezone
        self.editing_id, self.edit_name, self.edit_input = "", "", {}
        self.cron, self.preview_words, self.preview_times = "", "", []
        self.cron_error = self.zone_error = self.form_error = ""
        self.field_errors = {}

    @rx.event
    async def edit(self, schedule_id: str) -> Any:
        """Load a schedule into the form; Save then changes it."""
        try:
            shown = await call_service(load_for_edit, self.workspace_id, schedule_id)
        except DomainError as exc:
            self.row_errors = {schedule_id: str(exc)}
            return None
        if not self.editing_id:
            self._zone_before_edit = self.timezone
        self.row_errors, self.form_error, self.field_errors = {}, "", {}
        self.editing_id, self.form_key = schedule_id, self.form_key + 1
        self.edit_name, self.edit_input = shown["name"], shown["input"]
        self.cron, self.timezone = shown["cron"], shown["timezone"]
        self.policy = shown["missed_policy"]
        if self.timezone not in self.zones:
            self.zones = [self.timezone, *self.zones]
        self._preview()
        return rx.scroll_to("schedule-form")

    @rx.event
    def cancel_edit(self) -> None:
        self._new_form()

    @rx.event
    async def save(self, form: dict[str, Any]) -> Any:
        """Create a schedule, or save the changes to the one being edited."""
        if self.busy:
            return
        self.busy, self.form_error, self.field_errors = "save", "", {}
        yield
        editing = self.editing_id
        values = {"cron": self.cron, "timezone": self.timezone, "input": form_input(form),
                  "name": str(form.get("name", "")), "missed_policy": self.policy}
        try:
            principal = await self._principal()
            permissions.require(principal.role, permissions.BUILD)
            if editing:
                saved = await call_service(write, save_changes, actor=principal.actor,
                                           schedule_id=editing, **values)
            else:
                saved = await call_service(write, save_new, actor=principal.actor,
                                           workspace_id=principal.workspace_id,
                                           workflow_id=self.wf_id, **values)
        except DomainError as exc:
            self._show_errors(exc)
            return
        finally:
            self.busy = ""
        self._new_form()
        await self._reload_rows()
        self.selected_id = saved
        await self._load_history()
        if not editing:
            yield rx.set_value("schedule-name", "")
        yield rx.toast.success("Changes saved" if editing else "Schedule saved")

    # ----- per schedule -----
    async def _act(self, schedule_id: str, fn: Any, **kwargs: Any) -> Any:
        self.row_errors = {}
        self.busy = schedule_id
        try:
            principal = await self._principal()
            return await call_service(write, fn, actor=principal.actor,
                                      schedule_id=schedule_id, **kwargs)
        except DomainError as exc:
            self.row_errors = {schedule_id: str(exc)}
            return None
        finally:
            self.busy = ""

    @rx.event
    async def set_enabled(self, schedule_id: str, enabled: bool) -> None:
        await self._act(schedule_id, schedules.set_enabled, enabled=enabled)
        await self._reload_rows()

    @rx.event
    async def delete(self, schedule_id: str) -> None:
        await self._act(schedule_id, schedules.delete_schedule)
        if schedule_id not in self.row_errors:
            if self.selected_id == schedule_id:
                self.selected_id, self.history = "", []
            if self.editing_id == schedule_id:
                self._new_form()
        await self._reload_rows()

    @rx.event
    async def run_now(self, schedule_id: str) -> None:
        run_id = await self._act(schedule_id, start_now)
        if run_id:
            self.started_run, self.started_for = run_id, schedule_id
            self.selected_id = schedule_id
            await self._reload_rows()
            await self._load_history()

    @rx.event
    async def select(self, schedule_id: str) -> None:
        self.selected_id = "" if self.selected_id == schedule_id else schedule_id
        self.history = []
        if self.selected_id:
            await self._load_history()

    async def _load_history(self) -> None:
        try:
            self.history = await call_service(load_history, self.workspace_id,
                                              self.selected_id)
            self.history_error = ""
        except DomainError as exc:
            self.history_error = str(exc)

    @rx.event(background=True)
    async def watch(self) -> None:
        """Fired runs and their statuses appear without a reload."""
        token = self.router.session.client_token
        generation = live.begin(token, WATCH)
        try:
            async with live.Waker() as waker:
                while live.is_current(token, WATCH, generation):
                    await waker.wait(WATCH_INTERVAL_S)
                    async with self:
                        if not self.user_id or not self.wf_id:
                            return
                        ids = (self.workspace_id, self.wf_id, self.selected_id)
                    try:
                        rows = await call_service(load_rows, ids[0], ids[1])
                        fires = await call_service(load_history, ids[0], ids[2]) \
                            if ids[2] else []
                    except DomainError:
                        continue
                    async with self:
                        if (self.wf_id, self.selected_id) != ids[1:]:
                            continue
                        if rows != self.rows:
                            self.rows = rows
                        if fires != self.history:
                            self.history = fires
        finally:
            live.end(token, WATCH, generation)

