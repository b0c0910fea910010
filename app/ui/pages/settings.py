"""Settings pages: API keys, credentials, members (webhooks live in settings_webhooks.py)."""

from __future__ import annotations

import reflex as rx

from app.models import CREDENTIAL_TYPES, SCOPES, Role
from app.services.members import MemberRow
from app.services.settings_admin import CredentialRow, KeyRow
from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    loading_block,
    notice_text,
    relative_time,
    status_badge,
    time_text,
)
from app.ui.components.settings_nav import settings_layout
from app.ui.states.auth import AuthState, guarded
from app.ui.states.settings import ApiKeysState, CredentialsState, MembersState, SettingsState

KEY_STATE_COLORS = {"active": "green", "expired": "orange", "revoked": "gray"}


def _field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    parts = [rx.text(label, size="2", weight="medium"), control]
    if hint:
        parts.append(rx.text(hint, size="1", color_scheme="gray"))
    return rx.vstack(*parts, spacing="1", width="100%", min_width="0")


def _confirm(trigger: rx.Component, title: str, text: str, action: rx.Component) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(text),
            rx.flex(rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                    rx.alert_dialog.action(action), spacing="2", justify="end",
                    margin_top="16px"),
        ),
    )


# ----- API keys -----

def _minted_secret() -> rx.Component:
    return rx.cond(
        ApiKeysState.minted_secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.callout.text(
                rx.vstack(
                    rx.text(rx.text("Copy the key “", ApiKeysState.minted_name, "” now", as_="span",
                                    weight="bold"),
                            ": it is shown only this once, and only its prefix is kept."),
                    rx.code(ApiKeysState.minted_secret, word_break="break-all", size="3",
                            data_testid="minted-secret"),
                    rx.flex(
                        rx.button(rx.icon("copy", size=14), "Copy",
                                  on_click=[rx.set_clipboard(ApiKeysState.minted_secret),
                                            rx.toast.success("Copied")], size="1"),
                        rx.button("I stored it", on_click=ApiKeysState.dismiss_secret, size="1",
                                  variant="soft", data_testid="dismiss-secret"),
                        spacing="2",
                    ),
                    spacing="2",
                    width="100%",
                ),
            ),
            color_scheme="green",
            width="100%",
        ),
    )


def _mint_form() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Mint a key", weight="medium"),
            rx.flex(
                rx.box(_field("Name", rx.input(value=ApiKeysState.name,
                                               on_change=ApiKeysState.set_name,
                                               placeholder="e.g. HR system", width="100%",
                                               data_testid="key-name")),
                       flex="2 1 220px"),
                rx.box(_field("Expires", rx.select.root(
                    rx.select.trigger(width="100%"),
                    rx.select.content(
                        rx.select.item("in 7 days", value="7"),
                        rx.select.item("in 30 days", value="30"),
                        rx.select.item("in 90 days", value="90"),
                        rx.select.item("in a year", value="365"),
                        rx.select.item("never", value="never"),
                    ),
                    value=ApiKeysState.expiry, on_change=ApiKeysState.set_expiry)),
                    flex="1 1 140px"),
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            _field("Scopes", rx.flex(
                *[rx.checkbox(scope, checked=ApiKeysState.scopes.contains(scope),
                              on_change=lambda checked, s=scope: ApiKeysState.toggle_scope(
                                  s, checked),
                              data_testid=f"scope-{scope}")
                  for scope in SCOPES],
                spacing="3", wrap="wrap")),
            error_text(ApiKeysState.error),
            rx.button(rx.cond(ApiKeysState.busy, rx.spinner(size="2"), rx.icon("plus", size=16)),
                      "Mint key", on_click=ApiKeysState.mint, disabled=ApiKeysState.busy,
                      data_testid="mint-key"),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _key_row(key: KeyRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(key.name, weight="medium"),
                      rx.code(key.prefix, "…", size="1", data_testid="key-prefix")),
        rx.table.cell(rx.text(key.scopes, size="1"), max_width="260px"),
        rx.table.cell(rx.badge(key.state, color_scheme=rx.match(
            key.state, *KEY_STATE_COLORS.items(), "gray"))),
        rx.table.cell(rx.cond(key.last_used_at != "", relative_time(key.last_used_at),
                              rx.text("never", size="2", color_scheme="gray")),
                      data_testid="key-last-used"),
        rx.table.cell(rx.cond(key.expires_at != "", time_text(key.expires_at, font_size="13px"),
                              rx.text("never", size="2", color_scheme="gray"))),
        rx.table.cell(rx.text(key.created_by, size="1"),
                      time_text(key.created_at, font_size="12px")),
        rx.table.cell(
            rx.cond(key.state == "active",
                    _confirm(rx.button("Revoke", color_scheme="red", variant="soft", size="1",
                                       data_testid="revoke-key"),
                             "Revoke this key?",
                             "Requests with it fail at once (401). This cannot be undone.",
                             rx.button("Revoke", color_scheme="red",
                                       on_click=ApiKeysState.revoke(key.id),
                                       data_testid="confirm-revoke"))),
            error_text(ApiKeysState.row_errors.get(key.id, "")),
        ),
        data_testid="key-row",
    )


def _keys_table() -> rx.Component:
    return rx.cond(
        ~ApiKeysState.loaded,
        loading_block(),
        rx.cond(
            ApiKeysState.keys.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Key", "Scopes", "State", "Last used", "Expires", "Created", "")])),
                rx.table.body(rx.foreach(ApiKeysState.keys, _key_row)),
                variant="surface", width="100%"), width="100%", overflow_x="auto"),
            empty_state("key-round", "No API keys yet",
                        "Mint one above for each system that calls the API; give it only the "
                        "scopes it needs and an expiry."),
        ),
    )


API_LINKS = (("API reference", "/api/v1/docs"),
             ("Postman collection", "/api/v1/postman/collection.json"),
             ("Postman environment", "/api/v1/postman/environment.json"))


def _api_links() -> rx.Component:
    """Where integrators start: the reference, and a collection to import into Postman."""
    return rx.hstack(
        rx.icon("book-open", size=16),
        *[rx.el.a(label, href=href, target="_blank", rel="noopener",
                  style={"color": "var(--accent-11)", "font-size": "14px"},
                  data_testid="api-link") for label, href in API_LINKS],
        spacing="3", align="center", wrap="wrap")


def api_keys_page() -> rx.Component:
    return settings_layout(
        "API keys", "Keys authenticate calls to /api/v1 (Authorization: Bearer <key>).",
        _api_links(), _minted_secret(), _mint_form(), _keys_table())


# ----- credentials -----

def _credential_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text("Add a credential", weight="medium"),
                rx.flex(
                    rx.box(_field("Name", rx.input(name="name", id="credential-name",
                                                   placeholder="e.g. hr_api", width="100%",
                                                   data_testid="credential-name")),
                           flex="1 1 180px"),
                    rx.box(_field("Type", rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(*[rx.select.item(t, value=t)
                                            for t in CREDENTIAL_TYPES]),
                        value=CredentialsState.cred_type, on_change=CredentialsState.set_type)),
                        flex="1 1 140px"),
                    rx.cond(CredentialsState.cred_type == "header",
                            rx.box(_field("Header name", rx.input(name="header",
                                                                  placeholder="X-Api-Token",
                                                                  width="100%")),
                                   flex="1 1 160px")),
                    spacing="3",
                    wrap="wrap",
                    width="100%",
                ),
                _field("Value", rx.input(name="value", id="credential-value", type="password",
                                         auto_complete="off", width="100%",
                                         data_testid="credential-value"),
                       hint="Encrypted at rest; never shown again, by any page or API. "
                            "Basic: user:password."),
                error_text(CredentialsState.error),
                rx.button(rx.cond(CredentialsState.busy, rx.spinner(size="2"),
                                  rx.icon("plus", size=16)),
                          "Save credential", type="submit", disabled=CredentialsState.busy,
                          data_testid="save-credential"),
                spacing="3",
                width="100%",
            ),
            on_submit=CredentialsState.create,
            width="100%",
        ),
        width="100%",
    )


def _credential_row(row: CredentialRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.name, weight="medium"),
                      rx.text(row.id, size="1", color_scheme="gray", font_family="monospace")),
        rx.table.cell(rx.badge(row.type, variant="surface"),
                      rx.cond(row.header != "", rx.code(row.header, size="1"))),
        rx.table.cell(rx.text("••••••••", color_scheme="gray")),
        rx.table.cell(rx.text(row.created_by, size="1"), time_text(row.created_at,
                                                                  font_size="12px")),
        rx.table.cell(
            _confirm(rx.button("Delete", color_scheme="red", variant="soft", size="1"),
                     "Delete this credential?",
                     "Steps that use it fail until you add one with the same name.",
                     rx.button("Delete", color_scheme="red",
                               on_click=CredentialsState.delete(row.id))),
            error_text(CredentialsState.row_errors.get(row.id, "")),
        ),
        data_testid="credential-row",
    )


def credentials_page() -> rx.Component:
    return settings_layout(
        "Credentials", "Secrets that http steps use (by name) without ever showing them.",
        notice_text(CredentialsState.created_notice),
        _credential_form(),
        rx.cond(
            ~CredentialsState.loaded,
            loading_block(),
            rx.cond(
                CredentialsState.rows.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Name", "Type", "Value", "Created", "")])),
                    rx.table.body(rx.foreach(CredentialsState.rows, _credential_row)),
                    variant="surface", width="100%"), width="100%", overflow_x="auto"),
                empty_state("lock-keyhole", "No credentials yet",
                            "Add one above, then name it in an http step's \"credential\"."),
            ),
        ),
    )


# ----- members -----

def _role_select(row: MemberRow) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(size="1"),
        rx.select.content(*[rx.select.item(r, value=r) for r in Role.ALL]),
        value=row.role,
        on_change=lambda role: MembersState.change_role(row.user_id, role),
        size="1",
    )


def _member_row(row: MemberRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.email, weight="medium"),
                      rx.text(row.name, size="1", color_scheme="gray")),
        rx.table.cell(rx.cond(row.is_me, status_badge(row.role), _role_select(row))),
        rx.table.cell(time_text(row.joined_at, font_size="13px")),
        rx.table.cell(
            rx.cond(~row.is_me, _confirm(
                rx.button("Remove", color_scheme="red", variant="soft", size="1"),
                "Remove this member?", "They lose access to this workspace at once.",
                rx.button("Remove", color_scheme="red",
                          on_click=MembersState.remove(row.user_id))),
                rx.text("you", size="1", color_scheme="gray")),
            error_text(MembersState.row_errors.get(row.user_id, "")),
        ),
        data_testid="member-row",
    )


def _add_member_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                rx.text("Add a member", weight="medium"),
                rx.flex(
                    rx.box(_field("Email", rx.input(name="email", id="member-email",
                                                    type="email", width="100%")),
                           flex="2 1 220px"),
                    rx.box(_field("Role", rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(*[rx.select.item(r, value=r) for r in Role.ALL]),
                        value=MembersState.new_role, on_change=MembersState.set_new_role)),
                        flex="1 1 120px"),
                    spacing="3", wrap="wrap", width="100%",
                ),
                rx.flex(
                    rx.box(_field("Name (new users)", rx.input(name="name", id="member-name",
                                                               width="100%")),
                           flex="1 1 180px"),
                    rx.box(_field("Initial password (new users)",
                                  rx.input(name="password", id="member-password",
                                           type="password", auto_complete="new-password",
                                           width="100%"),
                                  hint="Only when the email has no account yet; at least 8 "
                                       "characters. Share it privately."),
                           flex="1 1 220px"),
                    spacing="3", wrap="wrap", width="100%",
                ),
                error_text(MembersState.error),
                rx.button(rx.cond(MembersState.busy, rx.spinner(size="2"),
                                  rx.icon("user-plus", size=16)),
                          "Add member", type="submit", disabled=MembersState.busy),
                spacing="3",
                width="100%",
            ),
            on_submit=MembersState.add,
            width="100%",
        ),
        width="100%",
    )


def members_page() -> rx.Component:
    return settings_layout(
        "Members", "Who can use this workspace, and what their role lets them do.",
        notice_text(MembersState.notice),
        _add_member_form(),
        rx.cond(
            ~MembersState.loaded,
            loading_block(),
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Member", "Role", "Joined", "")])),
                rx.table.body(rx.foreach(MembersState.rows, _member_row)),
                variant="surface", width="100%"), width="100%", overflow_x="auto"),
        ),
        members_only=True,
    )


def settings_index() -> rx.Component:
    return settings_layout("Settings", "Opening API keys…")


def register(app: rx.App) -> None:
    check = AuthState.require_capability_settings
    app.add_page(settings_index, route=routes.SETTINGS, title="Settings · Flowdesk",
                 on_load=guarded(check, SettingsState.go_to_first_tab))
    app.add_page(api_keys_page, route=routes.SETTINGS_API_KEYS, title="API keys · Flowdesk",
                 on_load=guarded(check, ApiKeysState.open_page))
    app.add_page(credentials_page, route=routes.SETTINGS_CREDENTIALS,
                 title="Credentials · Flowdesk", on_load=guarded(check, CredentialsState.open_page))
    app.add_page(members_page, route=routes.SETTINGS_MEMBERS, title="Members · Flowdesk",
                 on_load=guarded(check, MembersState.open_page))
