"""The settings pages' frame: a tab row of links and the no-access message."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import page_header
from app.ui.components.layout import layout
from app.ui.states.auth import AuthState

TABS = (
    ("API keys", routes.SETTINGS_API_KEYS, "key-round"),
    ("Webhooks", routes.SETTINGS_WEBHOOKS, "webhook"),
    ("Credentials", routes.SETTINGS_CREDENTIALS, "lock-keyhole"),
    ("Members", routes.SETTINGS_MEMBERS, "users"),
    ("Notifications", routes.SETTINGS_NOTIFICATIONS, "bell"),
)


def _tab(label: str, route: str, icon: str) -> rx.Component:
    active = AuthState.router.url.path.startswith(route)
    link = rx.link(
        rx.hstack(rx.icon(icon, size=15), rx.text(label, size="2"), align="center", spacing="1"),
        href=route,
        underline="none",
        padding_x="10px",
        padding_y="6px",
        border_radius="6px",
        color=rx.cond(active, "var(--accent-12)", "var(--gray-11)"),
        background=rx.cond(active, "var(--accent-a4)", "transparent"),
        white_space="nowrap",
        data_testid=f"settings-tab-{label.lower().replace(' ', '-')}",
    )
    if route == routes.SETTINGS_MEMBERS:
        return rx.cond(AuthState.can_manage_members, link)
    return link


def settings_layout(title: str, subtitle: str, *children: rx.Component,
                    members_only: bool = False) -> rx.Component:
    allowed = AuthState.can_manage_members if members_only else AuthState.can_see_settings
    return layout(
        page_header("Settings", subtitle=AuthState.workspace_name),
        rx.flex(*[_tab(*t) for t in TABS], spacing="1", wrap="wrap", margin_bottom="16px",
                border_bottom="1px solid var(--gray-a5)", padding_bottom="8px"),
        rx.cond(
            allowed,
            rx.vstack(
                rx.vstack(rx.heading(title, size="4"),
                          rx.text(subtitle, size="2", color_scheme="gray"), spacing="1"),
                *children,
                spacing="4",
                width="100%",
            ),
            rx.callout("Your role cannot open these settings; ask an admin.", icon="lock",
                       color_scheme="gray", data_testid="no-settings-access"),
        ),
    )
