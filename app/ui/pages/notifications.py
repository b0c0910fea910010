"""/settings/notifications: which approval emails a member gets (every member), and for
admins how email is delivered and the outbox's latest emails with their status."""

from __future__ import annotations

import reflex as rx

from app.services.notification_settings import CHOICES, EmailRow
from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    loading_block,
    notice_text,
    page_header,
    status_badge,
    time_text,
)
from app.ui.components.layout import layout
from app.ui.states.auth import AuthState, guarded
from app.ui.states.notifications import NotificationsState

LABELS = {"all": "All approval emails", "named": "Only items that name me",
          "none": "None"}
DELIVERY_COLORS = {"smtp": "green", "log": "amber", "broken": "red"}


def _choice(value: str) -> rx.Component:
    return rx.flex(
        rx.radio_group.item(value=value, id=f"email-choice-{value}"),
        rx.vstack(rx.el.label(rx.text(LABELS[value], weight="medium", size="2"),
                              html_for=f"email-choice-{value}"),
                  rx.text(CHOICES[value], size="1", color_scheme="gray"), spacing="0"),
        spacing="2", align="start",
    )


def _preference() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Your approval emails", size="4"),
            rx.text("New items, reminders and escalations link to a page where you approve "
                    "or reject; opening the link never decides anything.", size="2",
                    color_scheme="gray"),
            rx.radio_group.root(
                rx.vstack(*[_choice(v) for v in CHOICES], spacing="3"),
                value=NotificationsState.choice, on_change=NotificationsState.choose,
                name="email_notifications", data_testid="email-choice",
            ),
            notice_text(NotificationsState.notice),
            error_text(NotificationsState.error),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def _email_row(row: EmailRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.to_addr, size="2")),
        rx.table.cell(rx.text(row.kind, size="2"),
                      rx.text(row.subject, size="1", color_scheme="gray")),
        rx.table.cell(status_badge(row.status),
                      rx.cond(row.last_error != "",
                              rx.text(row.last_error, size="1", color_scheme="red"))),
        rx.table.cell(rx.text(row.attempts, size="2")),
        rx.table.cell(time_text(row.created_at, font_size="13px")),
        data_testid="email-row",
    )


def _delivery() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Email delivery", size="4"),
            rx.callout(NotificationsState.delivery_text, icon="mail",
                       color_scheme=rx.match(NotificationsState.delivery_mode,
                                             *DELIVERY_COLORS.items(), "gray"),
                       data_testid="email-delivery"),
            rx.text("Set SMTP_URL (smtp://user:pass@host:587 for STARTTLS, smtps://… for "
                    "implicit TLS) and MAIL_FROM, then restart. Failed sends are retried for "
                    "about a day.", size="1", color_scheme="gray"),
            rx.cond(
                NotificationsState.emails.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "To", "Email", "Status", "Tries", "Made")])),
                    rx.table.body(rx.foreach(NotificationsState.emails, _email_row)),
                    variant="surface", width="100%", size="1"), width="100%",
                    overflow_x="auto"),
                empty_state("mail", "No emails yet",
                            "They appear here when an approval asks someone to act."),
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def notifications_page() -> rx.Component:
    return layout(
        page_header("Notifications", subtitle=AuthState.workspace_name),
        rx.cond(
            ~NotificationsState.loaded,
            loading_block(),
            rx.vstack(_preference(), rx.cond(AuthState.can_manage_members, _delivery()),
                      spacing="4", width="100%", max_width="860px"),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(notifications_page, route=routes.SETTINGS_NOTIFICATIONS,
                 title="Notifications · Flowdesk", on_load=guarded(NotificationsState.open_page))
