"""Settings → Webhooks: subscriptions, events, secret shown once, delivery log, replay, test."""

from __future__ import annotations

import reflex as rx

from app.models import EVENT_TYPES
from app.services.webhook_admin import DeliveryRow, WebhookRow
from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    loading_block,
    relative_time,
    time_text,
)
from app.ui.components.settings_nav import settings_layout
from app.ui.states.auth import AuthState, guarded
from app.ui.states.webhooks import ALL_EVENTS, WebhooksState

DELIVERY_COLORS = {"succeeded": "green", "failed": "red", "pending": "amber",
                   "delivering": "blue"}


def _secret_callout() -> rx.Component:
    return rx.cond(
        WebhooksState.shown_secret != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.callout.text(rx.vstack(
                rx.text(rx.text("Signing secret for ", WebhooksState.shown_secret_for,
                                as_="span", weight="bold"),
                        ": copy it now, it is not shown again. Verify each delivery's "
                        "webhook-signature with it (Standard Webhooks)."),
                rx.code(WebhooksState.shown_secret, word_break="break-all",
                        data_testid="webhook-secret"),
                rx.flex(
                    rx.button(rx.icon("copy", size=14), "Copy", size="1",
                              on_click=[rx.set_clipboard(WebhooksState.shown_secret),
                                        rx.toast.success("Copied")]),
                    rx.button("I stored it", size="1", variant="soft",
                              on_click=WebhooksState.dismiss_secret),
                    spacing="2",
                ),
                spacing="2", width="100%",
            )),
            color_scheme="green",
            width="100%",
        ),
    )


def _event_box(name: str, label: str) -> rx.Component:
    return rx.checkbox(label, checked=WebhooksState.events.contains(name),
                       on_change=lambda checked: WebhooksState.toggle_event(name, checked),
                       disabled=(name != ALL_EVENTS) & WebhooksState.events.contains(ALL_EVENTS))


def _create_form() -> rx.Component:
    return rx.card(rx.form(
        rx.vstack(
            rx.text("Add a subscription", weight="medium"),
            rx.flex(
                rx.input(name="url", id="webhook-url", placeholder="https://example.com/hooks",
                         type="url", flex="2 1 260px", data_testid="webhook-url"),
                rx.input(name="description", id="webhook-description",
                         placeholder="Description (optional)", flex="1 1 180px"),
                spacing="2", wrap="wrap", width="100%",
            ),
            rx.flex(_event_box(ALL_EVENTS, "All events"),
                    *[_event_box(e, e) for e in EVENT_TYPES], spacing="3", wrap="wrap"),
            error_text(WebhooksState.error),
            rx.button(rx.cond(WebhooksState.busy == "create", rx.spinner(size="2"),
                              rx.icon("plus", size=16)),
                      "Subscribe", type="submit", disabled=WebhooksState.busy != "",
                      data_testid="create-webhook"),
            spacing="3", width="100%",
        ),
        on_submit=WebhooksState.create,
        width="100%",
    ), width="100%")


def _delivery_row(d: DeliveryRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(d.event_type, size="2"),
                      rx.cond(d.replay, rx.badge("replay", size="1", variant="surface"))),
        rx.table.cell(rx.badge(d.status, color_scheme=rx.match(
            d.status, *DELIVERY_COLORS.items(), "gray"))),
        rx.table.cell(rx.cond(d.status_code != "", rx.code(d.status_code), "—")),
        rx.table.cell(rx.text(d.attempts, size="2")),
        rx.table.cell(rx.text(d.latency, size="2", white_space="nowrap")),
        rx.table.cell(time_text(d.created_at, font_size="12px"),
                      rx.cond(d.next_attempt_at != "",
                              rx.text("next try ", relative_time(d.next_attempt_at), size="1",
                                      color_scheme="gray"))),
        rx.table.cell(rx.text(d.error, size="1", color_scheme="red"), max_width="240px"),
        rx.table.cell(rx.cond((d.status == "failed") | (d.status == "succeeded"),
                              rx.button("Replay", size="1", variant="soft",
                                        on_click=WebhooksState.replay(d.id)))),
        data_testid="delivery-row",
    )


def _log() -> rx.Component:
    return rx.vstack(
        rx.text("Delivery log (newest first, updates live)", size="2", weight="medium"),
        error_text(WebhooksState.log_error),
        rx.cond(
            WebhooksState.log.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Event", "Status", "Response", "Attempts", "Latency", "Created", "Error",
                    "")])),
                rx.table.body(rx.foreach(WebhooksState.log, _delivery_row)),
                size="1", width="100%"), width="100%", overflow_x="auto"),
            rx.text("No deliveries yet: send a test event, or wait for a run event.",
                    size="2", color_scheme="gray"),
        ),
        width="100%",
        spacing="2",
    )


def _hook_card(hook: WebhookRow) -> rx.Component:
    busy = WebhooksState.busy == hook.id
    return rx.card(rx.vstack(
        rx.flex(
            rx.vstack(
                rx.text(hook.url, weight="medium", word_break="break-all"),
                rx.cond(hook.description != "",
                        rx.text(hook.description, size="1", color_scheme="gray")),
                spacing="1", min_width="0", flex="1 1 260px",
            ),
            rx.hstack(
                rx.switch(checked=hook.active,
                          on_change=lambda on: WebhooksState.set_active(hook.id, on)),
                rx.text(rx.cond(hook.active, "Active", "Off"), size="2"),
                align="center",
            ),
            spacing="3", wrap="wrap", width="100%", align="start",
        ),
        rx.flex(rx.foreach(hook.events, lambda e: rx.badge(rx.cond(e == "*", "all events", e),
                                                            variant="surface", size="1")),
                spacing="1", wrap="wrap"),
        rx.cond(hook.disabled_reason != "",
                rx.callout("Disabled: " + hook.disabled_reason, icon="circle-slash",
                           color_scheme="orange", size="1", width="100%")),
        rx.cond(hook.consecutive_failures > 0,
                rx.text(hook.consecutive_failures, " failed deliveries in a row", size="1",
                        color_scheme="red")),
        rx.flex(
            rx.button(rx.icon("list", size=14),
                      rx.cond(WebhooksState.log_for == hook.id, "Hide deliveries",
                              "Deliveries"),
                      size="1", variant="soft", on_click=WebhooksState.show_log(hook.id),
                      data_testid="show-deliveries"),
            rx.button(rx.cond(busy, rx.spinner(size="1"), rx.icon("send", size=14)),
                      "Send test", size="1", variant="soft", disabled=~hook.active,
                      on_click=WebhooksState.send_test(hook.id), data_testid="send-test"),
            rx.button(rx.icon("refresh-cw", size=14), "Rotate secret", size="1",
                      variant="soft", color_scheme="gray", on_click=WebhooksState.rotate(hook.id)),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button(rx.icon("trash-2", size=14), "Delete",
                                                  size="1", variant="soft", color_scheme="red")),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Delete this subscription?"),
                    rx.alert_dialog.description("Its delivery log goes with it."),
                    rx.flex(rx.alert_dialog.cancel(rx.button("Keep", variant="soft",
                                                             color_scheme="gray")),
                            rx.alert_dialog.action(rx.button(
                                "Delete", color_scheme="red",
                                on_click=WebhooksState.delete(hook.id))),
                            spacing="2", justify="end", margin_top="16px"),
                ),
            ),
            spacing="2", wrap="wrap",
        ),
        error_text(WebhooksState.row_errors.get(hook.id, "")),
        rx.cond(WebhooksState.log_for == hook.id, _log()),
        spacing="3", width="100%", min_width="0",
    ), width="100%", data_testid="webhook-card")


def webhooks_page() -> rx.Component:
    return settings_layout(
        "Webhooks", "Signed POSTs to your systems when runs start, wait, finish or fail.",
        _secret_callout(),
        _create_form(),
        rx.cond(
            ~WebhooksState.loaded,
            loading_block(),
            rx.cond(
                WebhooksState.hooks.length() > 0,
                rx.vstack(rx.foreach(WebhooksState.hooks, _hook_card), spacing="3",
                          width="100%"),
                empty_state("webhook", "No subscriptions yet",
                            "Add your endpoint above, choose its events, then send a test "
                            "event to check it verifies the signature."),
            ),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(webhooks_page, route=routes.SETTINGS_WEBHOOKS, title="Webhooks · Flowdesk",
                 on_load=guarded(AuthState.require_capability_settings, WebhooksState.open_page))
