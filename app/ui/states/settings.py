"""Settings: API keys (secret shown once), credentials (write-only), members and roles."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.errors import DomainError
from app.models import SCOPES, Actor
from app.services import members, settings_admin
from app.services.members import MemberRow
from app.services.settings_admin import CredentialRow, KeyRow
from app.ui import routes
from app.ui.states.auth import AuthState, call_service

DEFAULT_SCOPES = ["runs:read", "runs:write", "workflows:read"]


def read_as(fn: Any, actor: Actor, **kwargs: Any) -> Any:
    with read_session() as session:
        return fn(session, actor=actor, **kwargs)


def write_as(fn: Any, actor: Actor, **kwargs: Any) -> Any:
    with write_session() as session:
        return fn(session, actor=actor, **kwargs)


class SettingsState(AuthState):
    """Shared by the settings pages: the member, and /settings sending on to the first tab."""

    def _actor(self) -> Actor:
        return Actor.user(user_id=self.user_id, email=self.email, role=self.role,
                          workspace_id=self.workspace_id)

    @rx.event
    def go_to_first_tab(self) -> Any:
        if not self.can_see_settings:
            return None
        return rx.redirect(routes.SETTINGS_API_KEYS, replace=True)


class ApiKeysState(SettingsState):
    keys: list[KeyRow] = []
    loaded: bool = False
    name: str = ""
    scopes: list[str] = DEFAULT_SCOPES
    expiry: str = "90"
    error: str = ""
    row_errors: dict[str, str] = {}
    busy: bool = False
    # The just-minted secret: shown until dismissed or the page is left, never again.
    minted_secret: str = ""
    minted_name: str = ""

    @rx.event
    async def open_page(self) -> None:
        self.minted_secret = self.minted_name = self.error = ""
        self.row_errors = {}
        await self._reload()

    async def _reload(self) -> None:
        if not self.can_see_settings:
            return
        try:
            self.keys = await call_service(read_as, settings_admin.list_keys, self._actor())
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    def set_name(self, value: str) -> None:
        self.name = value

    @rx.event
    def set_expiry(self, value: str) -> None:
        self.expiry = value

    @rx.event
    def toggle_scope(self, scope: str, checked: bool) -> None:
        if checked and scope not in self.scopes:
            self.scopes = [s for s in SCOPES if s in {*self.scopes, scope}]
        elif not checked:
            self.scopes = [s for s in self.scopes if s != scope]

    @rx.event
    async def mint(self) -> Any:
        self.busy = True
        self.error = ""
        yield
        try:
            principal = await self._principal()
            _key_id, secret = await call_service(
                write_as, settings_admin.mint_key, principal.actor, name=self.name,
                scopes=list(self.scopes), expiry=self.expiry)
        except DomainError as exc:
            self.error = str(exc)
        else:
            self.minted_secret = secret
            self.minted_name = self.name.strip()
            self.name = ""
            await self._reload()
        finally:
            self.busy = False

    @rx.event
    def dismiss_secret(self) -> None:
        self.minted_secret = self.minted_name = ""

    @rx.event
    async def revoke(self, key_id: str) -> None:
        self.row_errors = {}
        try:
            principal = await self._principal()
            await call_service(write_as, settings_admin.revoke_key, principal.actor,
                               key_id=key_id)
        except DomainError as exc:
            self.row_errors[key_id] = str(exc)
        await self._reload()


class CredentialsState(SettingsState):
    rows: list[CredentialRow] = []
    loaded: bool = False
    cred_type: str = "bearer"
    error: str = ""
    row_errors: dict[str, str] = {}
    busy: bool = False
    created_notice: str = ""

    @rx.event
    async def open_page(self) -> None:
        self.error = self.created_notice = ""
        self.row_errors = {}
        await self._reload()

    async def _reload(self) -> None:
        if not self.can_see_settings:
            return
        try:
            self.rows = await call_service(read_as, settings_admin.list_credentials,
                                           self._actor())
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    def set_type(self, value: str) -> None:
        self.cred_type = value

    @rx.event
    async def create(self, form: dict[str, Any]) -> Any:
        """The value arrives in the form payload only; it is never kept in the state."""
        self.busy = True
        self.error = self.created_notice = ""
        yield
        try:
            principal = await self._principal()
            row = await call_service(
                write_as, settings_admin.create_credential, principal.actor,
                name=str(form.get("name", "")), type=self.cred_type,
                value=str(form.get("value", "")), header=str(form.get("header", "")))
        except DomainError as exc:
            self.error = str(exc)
        else:
            self.created_notice = (f"Saved '{row.name}'. Its value is encrypted and will not "
                                   "be shown again; steps use it by name or id.")
            await self._reload()
            yield rx.set_value("credential-name", "")
            yield rx.set_value("credential-value", "")
        finally:
            self.busy = False

    @rx.event
    async def delete(self, credential_id: str) -> None:
        self.row_errors = {}
        try:
            principal = await self._principal()
            await call_service(write_as, settings_admin.delete_credential, principal.actor,
                               credential_id=credential_id)
        except DomainError as exc:
            self.row_errors[credential_id] = str(exc)
        await self._reload()


class MembersState(SettingsState):
    rows: list[MemberRow] = []
    loaded: bool = False
    new_role: str = "viewer"
    error: str = ""
    notice: str = ""
    row_errors: dict[str, str] = {}
    busy: bool = False

    @rx.event
    async def open_page(self) -> None:
        self.error = self.notice = ""
        self.row_errors = {}
        await self._reload()

    async def _reload(self) -> None:
        if not self.can_manage_members:
            return
        try:
            self.rows = await call_service(read_as, members.list_members, self._actor())
        except DomainError as exc:
            self.error = str(exc)
        self.loaded = True

    @rx.event
    def set_new_role(self, value: str) -> None:
        self.new_role = value

    @rx.event
    async def add(self, form: dict[str, Any]) -> Any:
        self.busy = True
        self.error = self.notice = ""
        yield
        try:
            principal = await self._principal()
            row = await call_service(
                write_as, members.add_member, principal.actor, email=str(form.get("email", "")),
                role=self.new_role, name=str(form.get("name", "")),
                password=str(form.get("password", "")))
        except DomainError as exc:
            self.error = str(exc)
        else:
            self.notice = f"{row.email} is now a {row.role} of this workspace."
            await self._reload()
            for field in ("member-email", "member-name", "member-password"):
                yield rx.set_value(field, "")
        finally:
            self.busy = False

    @rx.event
    async def change_role(self, user_id: str, role: str) -> None:
        self.row_errors = {}
        self.notice = ""
        try:
            principal = await self._principal()
            await call_service(write_as, members.change_role, principal.actor, user_id=user_id,
                               role=role)
        except DomainError as exc:
            self.row_errors[user_id] = str(exc)
        await self._reload()

    @rx.event
    async def remove(self, user_id: str) -> None:
        self.row_errors = {}
        self.notice = ""
        try:
            principal = await self._principal()
            await call_service(write_as, members.remove_member, principal.actor, user_id=user_id)
        except DomainError as exc:
            self.row_errors[user_id] = str(exc)
        await self._reload()
