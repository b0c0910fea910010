"""The approvals inbox: pending items (live), history, deciding, and signed links."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session, write_session
from app.engine.fields import FieldSpec
from app.errors import Conflict, DomainError, ValidationFailed
from app.models import Actor
from app.services import approval_delegation, approval_links, files, inbox
from app.services.inbox import InboxItem
from app.settings import get_settings
from app.ui import routes
from app.ui.states import live
from app.ui.states.auth import AuthState, call_service

WATCH = "approvals"


def _pending(actor: Actor) -> list[InboxItem]:
    with read_session() as session:
        return inbox.pending_for(session, actor=actor)


def _decided(actor: Actor) -> list[InboxItem]:
    with read_session() as session:
        return inbox.decided_for(session, actor=actor)


def _decide(actor: Actor, approval_id: str, decision: str, comment: str | None,
            fields: dict[str, Any]) -> str:
    """Vote; answers the approval's status after it (pending while the policy waits)."""
    with write_session() as session:
        return inbox.decide(session, actor=actor, approval_id=approval_id, decision=decision,
                            comment=comment, fields=fields).status


def _attach(actor: Actor, name: str, data: bytes, spec: dict[str, Any]) -> dict[str, Any]:
    """Store an approver's file for a file field, within the field's own limits."""
    with write_session() as session:
        stored = files.upload_for_field(session, actor=actor, name=name, data=data,
                                        spec=FieldSpec.model_validate(spec),
                                        field_path=f"fields.{spec.get('name')}")
    return {"id": stored.id, "label": f"{stored.name} ({files.size_text(stored.size)})"}


def _eligible(actor: Actor, approval_id: str) -> list[dict]:
    with read_session() as session:
        return approval_links.eligible_approvers(session, actor=actor, approval_id=approval_id)


def _link(actor: Actor, approval_id: str, user_id: str) -> str:
    with read_session() as session:
        token = approval_links.make_link_token(session, actor=actor, approval_id=approval_id,
                                               approver_user_id=user_id)
    return routes.approval_link_url(token, get_settings().public_url)


def _delegate_choices(actor: Actor, approval_id: str) -> list[str]:
    with read_session() as session:
        return approval_delegation.delegate_choices(session, actor=actor,
                                                    approval_id=approval_id)


def _delegate(actor: Actor, approval_id: str, to_email: str) -> None:
    with write_session() as session:
        approval_delegation.delegate(session, actor=actor, approval_id=approval_id,
                                     to_email=to_email)


def _reassign(actor: Actor, approval_id: str, assignees: list[str]) -> None:
    with write_session() as session:
        approval_delegation.reassign(session, actor=actor, approval_id=approval_id,
                                     assignees=assignees)


PENDING_TABS = ("mine", "team", "delegated")


class ApprovalsState(AuthState):
    tab: str = "mine"
    tab_chosen: bool = False  # until the member picks a tab, the first with items shows
    pending: list[InboxItem] = []
    decided: list[InboxItem] = []
    loaded: bool = False
    comments: dict[str, str] = {}
    errors: dict[str, str] = {}
    # approver fields as typed, per approval; a field's error under "<approval id>/<name>"
    field_values: dict[str, dict[str, str]] = {}
    field_errors: dict[str, str] = {}
    # the "attach a file" dialog for an approver file field, and the files chosen so far
    attach_approval_id: str = ""
    attach_field: str = ""
    attach_error: str = ""
    attaching: bool = False
    file_labels: dict[str, str] = {}  # "<approval id>/<field>" → "name (size)"
    busy_id: str = ""
    notice: str = ""
    # the "link for an approver" dialog
    link_approval_id: str = ""
    link_candidates: list[dict[str, str]] = []
    link_user_id: str = ""
    link_url: str = ""
    link_error: str = ""
    # the "delegate" and "reassign" dialogs (one approval at a time)
    hand_approval_id: str = ""
    hand_mode: str = ""  # "delegate" or "reassign"
    delegate_choices: list[str] = []
    delegate_to: str = ""
    reassign_text: str = ""
    hand_error: str = ""

    @rx.var
    def mine(self) -> list[InboxItem]:
        return [item for item in self.pending if item.scope == "mine"]

    @rx.var
    def team(self) -> list[InboxItem]:
        return [item for item in self.pending if item.scope == "team"]

    @rx.var
    def delegated(self) -> list[InboxItem]:
        return [item for item in self.pending if item.scope == "delegated"]

    def _actor(self) -> Actor:
        return Actor.user(user_id=self.user_id, email=self.email, role=self.role,
                          workspace_id=self.workspace_id)

    @rx.event
    def set_tab(self, tab: str) -> Any:
        self.tab = tab
        self.tab_chosen = True
        if tab == "decided":
            return ApprovalsState.load_decided
        return None

    @rx.event
    def set_comment(self, approval_id: str, text: str) -> None:
        self.comments[approval_id] = text

    @rx.event
    def set_field(self, approval_id: str, name: str, value: Any) -> None:
        values = dict(self.field_values.get(approval_id, {}))
        values[name] = value if isinstance(value, str) else ("true" if value else "")
        self.field_values[approval_id] = values
        self.field_errors.pop(f"{approval_id}/{name}", None)

    @rx.event
    def open_attach(self, approval_id: str, name: str) -> None:
        self.attach_approval_id, self.attach_field, self.attach_error = approval_id, name, ""

    @rx.event
    def close_attach(self, open_: bool = False) -> None:
        if not open_:
            self.attach_approval_id = self.attach_field = self.attach_error = ""

    @rx.event
    async def upload_attachment(self, chosen: list[rx.UploadFile]) -> None:
        """Store the chosen file; the approver field then holds its id until the vote."""
        approval_id, name = self.attach_approval_id, self.attach_field
        item = next((i for i in self.pending if i.id == approval_id), None)
        spec = next((f for f in item.fields if f.get("name") == name), None) if item else None
        if not chosen or spec is None:
            return
        self.attaching, self.attach_error = True, ""
        try:
            principal = await self._principal()
            upload = chosen[0]
            stored = await call_service(_attach, principal.actor, upload.filename or "file",
                                        await upload.read(), spec)
        except ValidationFailed as exc:
            self.attach_error = exc.errors[0].message if exc.errors else str(exc)
            return
        except DomainError as exc:
            self.attach_error = str(exc)
            return
        finally:
            self.attaching = False
        self.set_field(approval_id, name, stored["id"])
        self.file_labels = {**self.file_labels, f"{approval_id}/{name}": stored["label"]}
        self.attach_approval_id = self.attach_field = ""

    def _show_problems(self, approval_id: str, exc: ValidationFailed) -> None:
        for error in exc.errors:
            if error.field.startswith("fields."):
                self.field_errors[f"{approval_id}/{error.field[7:]}"] = error.message
        self.errors[approval_id] = str(exc) if not any(
            e.field.startswith("fields.") for e in exc.errors) else (
            "Fill in the approver fields marked below")

    @rx.event
    async def load_decided(self) -> None:
        self.decided = await call_service(_decided, self._actor())

    @rx.event
    def open_page(self) -> Any:
        self.notice = ""
        self.errors = {}
        self.loaded = False
        self.tab_chosen = False
        return ApprovalsState.watch

    @rx.event(background=True)
    async def watch(self) -> None:
        """Reload the pending list on every relevant commit (or each second)."""
        token = self.router.session.client_token
        generation = live.begin(token, WATCH)
        try:
            async with live.Waker(live.APPROVAL_TOPICS) as waker:
                while live.is_current(token, WATCH, generation):
                    async with self:
                        if not self.user_id:
                            return
                        actor = self._actor()
                    items = await call_service(_pending, actor)
                    async with self:
                        if items != self.pending or not self.loaded:
                            self.pending = items
                            self.loaded = True
                        if not self.tab_chosen:
                            self.tab = next((tab for tab in PENDING_TABS
                                             if any(i.scope == tab for i in items)), "mine")
                    await waker.wait()
        finally:
            live.end(token, WATCH, generation)

    @rx.event
    async def decide(self, approval_id: str, decision: str) -> Any:
        self.busy_id = approval_id
        self.errors.pop(approval_id, None)
        self.notice = ""
        yield
        comment = (self.comments.get(approval_id) or "").strip() or None
        fields = {name: value for name, value in self.field_values.get(approval_id, {}).items()
                  if value != ""}
        try:
            principal = await self._principal()
            status = await call_service(_decide, principal.actor, approval_id, decision,
                                        comment, fields)
        except ValidationFailed as exc:
            self._show_problems(approval_id, exc)
        except Conflict as exc:
            # Someone else decided first (or the run moved on): say so and drop the item.
            self.notice = str(exc)
            self.pending = [i for i in self.pending if i.id != approval_id]
        except DomainError as exc:
            self.errors[approval_id] = str(exc)
        else:
            self.comments.pop(approval_id, None)
            self.field_values.pop(approval_id, None)
            word = "Approved" if decision == "approved" else "Rejected"
            if status == "pending":  # the policy waits for more votes: the item stays
                self.pending = await call_service(_pending, principal.actor)
                yield rx.toast.success(f"{word}. Your vote is recorded; the step waits for "
                                       "the others.")
            else:
                self.pending = [i for i in self.pending if i.id != approval_id]
                yield rx.toast.success(f"{word}. The run continues.")
        finally:
            self.busy_id = ""

    # ----- signed links -----
    @rx.event
    async def open_link_dialog(self, approval_id: str) -> None:
        self.link_approval_id = approval_id
        self.link_url = ""
        self.link_error = ""
        self.link_user_id = ""
        try:
            rows = await call_service(_eligible, self._actor(), approval_id)
        except DomainError as exc:
            self.link_candidates = []
            self.link_error = str(exc)
            return
        self.link_candidates = [{k: str(v) for k, v in r.items()} for r in rows]
        if rows:
            self.link_user_id = str(rows[0]["user_id"])
        else:
            self.link_error = "Nobody you can make a link for may decide this approval"

    @rx.event
    def close_link_dialog(self) -> None:
        self.link_approval_id = ""
        self.link_url = ""

    @rx.event
    def set_link_user(self, user_id: str) -> None:
        self.link_user_id = user_id
        self.link_url = ""

    @rx.event
    async def make_link(self) -> None:
        self.link_error = ""
        try:
            principal = await self._principal()
            self.link_url = await call_service(_link, principal.actor, self.link_approval_id,
                                               self.link_user_id)
        except DomainError as exc:
            self.link_error = str(exc)

    # ----- delegate and reassign -----
    @rx.event
    async def open_delegate(self, approval_id: str) -> None:
        self.hand_approval_id, self.hand_mode, self.hand_error = approval_id, "delegate", ""
        self.delegate_to = ""
        try:
            self.delegate_choices = await call_service(_delegate_choices, self._actor(),
                                                       approval_id)
        except DomainError as exc:
            self.delegate_choices = []
            self.hand_error = str(exc)
            return
        if self.delegate_choices:
            self.delegate_to = self.delegate_choices[0]
        else:
            self.hand_error = "Nobody else in this workspace may decide approvals"

    @rx.event
    def open_reassign(self, approval_id: str) -> None:
        item = next((i for i in self.pending if i.id == approval_id), None)
        self.hand_approval_id, self.hand_mode, self.hand_error = approval_id, "reassign", ""
        self.reassign_text = item.assignees if item else ""

    @rx.event
    def close_hand_dialog(self) -> None:
        self.hand_approval_id = ""
        self.hand_mode = ""

    @rx.event
    def set_delegate_to(self, email: str) -> None:
        self.delegate_to = email
        self.hand_error = ""

    @rx.event
    def set_reassign_text(self, text: str) -> None:
        self.reassign_text = text
        self.hand_error = ""

    @rx.event
    async def hand_on(self) -> Any:
        approval_id = self.hand_approval_id
        try:
            principal = await self._principal()
            if self.hand_mode == "delegate":
                await call_service(_delegate, principal.actor, approval_id, self.delegate_to)
                message = f"Delegated to {self.delegate_to}: they decide in your place."
            else:
                names = [part.strip() for part in self.reassign_text.replace("\n", ",")
                         .split(",") if part.strip()]
                await call_service(_reassign, principal.actor, approval_id, names)
                message = "Reassigned to " + ", ".join(names) + "."
        except ValidationFailed as exc:
            self.hand_error = "; ".join(e.message for e in exc.errors) or str(exc)
            return None
        except DomainError as exc:
            self.hand_error = str(exc)
            return None
        self.hand_approval_id = ""
        self.hand_mode = ""
        self.pending = await call_service(_pending, principal.actor)
        return rx.toast.success(message)
