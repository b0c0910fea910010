"""Settings → Webhooks: subscriptions, secret shown once, delivery log (live), replay, test."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.errors import DomainError
from app.models import EVENT_TYPES
from app.services import webhook_admin
from app.services.webhook_admin import DeliveryRow, WebhookRow
from app.ui.states import live
from app.ui.states.auth import call_service
from app.ui.states.settings import SettingsState, read_as, write_as

WATCH = "webhook-deliveries"
ALL_EVENTS = "*"


class WebhooksState(SettingsState):
    hooks: list[WebhookRow] = []
    loaded: bool = False
    events: list[str] = [ALL_EVENTS]
    error: str = ""
    row_errors: dict[str, str] = {}
    busy: str = ""
    # A secret just created or rotated: shown until dismissed or the page is left.
    shown_secret: str = ""
    shown_secret_for: str = ""
    # The delivery log of one subscription
    log_for: str = ""
    log: list[DeliveryRow] = []
    log_error: str = ""

    @rx.event
    async def open_page(self) -> None:
        self.shown_secret = self.shown_secret_for = self.error = self.log_for = ""
        self.row_errors = {}
        self.log = []
        await self._reload()

    async def _reload(self) -> None:
        if not self.can_see_settings:
            return
        try:
            self.hooks = await call_service(read_as, webhook_admin.list_subscriptions,
                                            self._actor())
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    def toggle_event(self, name: str, checked: bool) -> None:
        if name == ALL_EVENTS:
            self.events = [ALL_EVENTS] if checked else []
            return
        chosen = {e for e in self.events if e != ALL_EVENTS}
        chosen = chosen | {name} if checked else chosen - {name}
        self.events = [e for e in EVENT_TYPES if e in chosen]

    @rx.event
    async def create(self, form: dict[str, Any]) -> Any:
        self.busy = "create"
        self.error = ""
        yield
        try:
            principal = await self._principal()
            row, secret = await call_service(
                write_as, webhook_admin.subscribe, principal.actor, url=str(form.get("url", "")),
                events=list(self.events), description=str(form.get("description", "")))
        except DomainError as exc:
            self.error = str(exc)
        else:
            self.shown_secret, self.shown_secret_for = secret, row.url
            await self._reload()
            yield rx.set_value("webhook-url", "")
            yield rx.set_value("webhook-description", "")
        finally:
            self.busy = ""

    @rx.event
    def dismiss_secret(self) -> None:
        self.shown_secret = self.shown_secret_for = ""

    async def _act(self, webhook_id: str, fn: Any, **kwargs: Any) -> Any:
        self.row_errors = {}
        self.busy = webhook_id
        try:
            principal = await self._principal()
            return await call_service(write_as, fn, principal.actor, webhook_id=webhook_id,
                                      **kwargs)
        except DomainError as exc:
            self.row_errors[webhook_id] = str(exc)
            return None
        finally:
            self.busy = ""

    @rx.event
    async def set_active(self, webhook_id: str, active: bool) -> None:
        await self._act(webhook_id, webhook_admin.set_active, active=active)
        await self._reload()

    @rx.event
    async def delete(self, webhook_id: str) -> None:
        await self._act(webhook_id, webhook_admin.unsubscribe)
        if self.log_for == webhook_id:
            self.log_for = ""
        await self._reload()

    @rx.event
    async def rotate(self, webhook_id: str) -> None:
        secret = await self._act(webhook_id, webhook_admin.rotate)
        if secret:
            hook = next((h for h in self.hooks if h.id == webhook_id), None)
            self.shown_secret = secret
            self.shown_secret_for = (hook.url if hook else webhook_id) + " (rotated; the old " \
                                                                         "secret also signs " \
                                                                         "for a day)"

    @rx.event
    async def send_test(self, webhook_id: str) -> Any:
        await self._act(webhook_id, webhook_admin.send_test)
        if webhook_id not in self.row_errors:
            yield rx.toast.success("Test event queued; see the delivery log.")
            if self.log_for != webhook_id:
                yield WebhooksState.show_log(webhook_id)

    # ----- delivery log -----
    async def _load_log(self) -> None:
        try:
            self.log = await call_service(read_as, webhook_admin.deliveries, self._actor(),
                                          webhook_id=self.log_for)
            self.log_error = ""
        except DomainError as exc:
            self.log_error = str(exc)

    @rx.event
    async def show_log(self, webhook_id: str) -> Any:
        if self.log_for == webhook_id:
            self.log_for = ""
            return
        self.log_for = webhook_id
        self.log = []
        await self._load_log()
        yield WebhooksState.watch_log

    @rx.event
    async def replay(self, delivery_id: str) -> None:
        self.log_error = ""
        try:
            principal = await self._principal()
            await call_service(write_as, webhook_admin.replay, principal.actor,
                               webhook_id=self.log_for, delivery_id=delivery_id)
        except DomainError as exc:
            self.log_error = str(exc)
        await self._load_log()

    @rx.event(background=True)
    async def watch_log(self) -> None:
        token = self.router.session.client_token
        generation = live.begin(token, WATCH)
        try:
            async with live.Waker() as waker:
                while live.is_current(token, WATCH, generation):
                    await waker.wait(2.0)
                    async with self:
                        if not self.user_id or not self.log_for:
                            return
                        actor, webhook_id = self._actor(), self.log_for
                    try:
                        rows = await call_service(read_as, webhook_admin.deliveries, actor,
                                                  webhook_id=webhook_id)
                    except DomainError:
                        continue
                    async with self:
                        if self.log_for == webhook_id and rows != self.log:
                            self.log = rows
        finally:
            live.end(token, WATCH, generation)
