"""The notifications page: a member's choice of approval emails; for admins, how email is
delivered and the latest emails of the outbox."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.errors import DomainError
from app.models import Actor
from app.services import notification_settings
from app.services.notification_settings import EmailRow
from app.ui.states.auth import AuthState, call_service
from app.ui.states.settings import read_as, write_as


class NotificationsState(AuthState):
    choice: str = "all"
    delivery_mode: str = ""
    delivery_text: str = ""
    emails: list[EmailRow] = []
    loaded: bool = False
    error: str = ""
    notice: str = ""

    def _actor(self) -> Actor:
        return Actor.user(user_id=self.user_id, email=self.email, role=self.role,
                          workspace_id=self.workspace_id)

    @rx.event
    async def open_page(self) -> None:
        self.error = self.notice = ""
        if not self.signed_in:
            return
        try:
            self.choice = await call_service(read_as, notification_settings.my_preference,
                                             self._actor())
            mode, text = notification_settings.delivery_summary()
            self.delivery_mode, self.delivery_text = mode, text
            self.emails = (await call_service(read_as, notification_settings.recent_emails,
                                              self._actor())
                           if self.can_manage_members else [])
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    async def choose(self, value: str) -> Any:
        self.error = self.notice = ""
        try:
            principal = await self._principal()
            self.choice = await call_service(write_as, notification_settings.set_my_preference,
                                             principal.actor, choice=value)
        except DomainError as exc:
            self.error = str(exc)
            return
        self.notice = "Saved."
