"""Small building blocks every page uses: headers, empty states, errors, badges, JSON."""

from __future__ import annotations

import reflex as rx

STATUS_COLORS = {
    "IN_PROGRESS": "blue", "BLOCKED": "amber", "FLAGGED": "red", "COMPLETED": "green",
    "CANCELLED": "gray", "pending": "gray", "running": "blue", "waiting": "amber",
    "done": "green", "failed": "red", "skipped": "gray", "cancelled": "gray",
    "approved": "green", "rejected": "red", "draft": "gray", "published": "green",
}
STATUS_ICONS = {
    "pending": "circle-dashed", "running": "loader", "waiting": "hourglass", "done": "circle-check",
    "failed": "circle-x", "skipped": "skip-forward", "cancelled": "circle-slash",
    "IN_PROGRESS": "loader", "BLOCKED": "hourglass", "FLAGGED": "flag",
    "COMPLETED": "circle-check", "CANCELLED": "circle-slash",
}


def status_badge(status: rx.Var | str) -> rx.Component:
    """A coloured badge for any run, step or approval status."""
    return rx.badge(
        status,
        color_scheme=rx.match(status, *[(k, v) for k, v in STATUS_COLORS.items()], "gray"),
        variant="soft",
        white_space="nowrap",
    )


def status_icon(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        *[(k, rx.icon(v, size=18, color=f"var(--{STATUS_COLORS[k]}-9)"))
          for k, v in STATUS_ICONS.items()],
        rx.icon("circle", size=18),
    )


def page_header(title: str | rx.Var, *actions: rx.Component,
                subtitle: str | rx.Var | None = None) -> rx.Component:
    lines = [rx.heading(title, size="6", as_="h1")]
    if subtitle is not None:
        lines.append(rx.text(subtitle, color_scheme="gray", size="2"))
    return rx.flex(
        rx.vstack(
            *lines,
            spacing="1",
            min_width="0",
        ),
        rx.flex(*actions, spacing="2", wrap="wrap"),
        justify="between",
        align="start",
        spacing="3",
        wrap="wrap",
        width="100%",
        margin_bottom="16px",
    )


def empty_state(icon: str, title: str, hint: str | rx.Var,
                action: rx.Component | None = None) -> rx.Component:
    """What a list shows when it has nothing: why, and what to do next."""
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=28, color="var(--gray-9)"),
            rx.text(title, weight="medium"),
            rx.text(hint, color_scheme="gray", size="2", text_align="center"),
            *([action] if action is not None else []),
            align="center",
            spacing="2",
            padding="20px",
        ),
        width="100%",
        class_name="empty-state",
    )


def lone_card(*children: rx.Component, max_width: str) -> rx.Component:
    """One card in the middle of an otherwise empty screen (sign-in, page not found)."""
    return rx.center(
        rx.card(*children, width="100%", max_width=max_width, size="4"),
        min_height="100vh",
        padding="16px",
        background="var(--gray-2)",
    )


def error_text(message: rx.Var) -> rx.Component:
    """A service error shown next to what caused it (renders nothing when empty)."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", size="1", role="alert",
                   width="100%"),
    )


def notice_text(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(message, icon="info", color_scheme="blue", size="1", width="100%"),
    )


def files_list(files: rx.Var, label: str = "Files") -> rx.Component:
    """Files with their signed download links (fresh when the page loaded)."""
    def row(item: rx.Var) -> rx.Component:
        return rx.hstack(
            rx.icon("paperclip", size=14, color="var(--gray-10)"),
            rx.link(item["name"], href=item["download_path"], is_external=True, size="2",
                    data_testid="file-link"),
            rx.text(item["content_type"], " · ", item["size"], size="1", color_scheme="gray"),
            spacing="2", align="center", wrap="wrap",
        )

    return rx.cond(files.length() > 0, rx.box(
        rx.text(label, size="1", weight="medium", color_scheme="gray"),
        rx.vstack(rx.foreach(files, row), spacing="1", margin_top="4px"),
        width="100%", data_testid="files"))


def json_block(text: rx.Var, label: str) -> rx.Component:
    """Formatted JSON (already pretty-printed by the service) in a scrollable block."""
    return rx.cond(
        text != "",
        rx.box(
            rx.text(label, size="1", weight="medium", color_scheme="gray"),
            rx.el.pre(
                text,
                style={"fontSize": "12px", "margin": 0, "whiteSpace": "pre-wrap",
                       "wordBreak": "break-word", "overflowX": "auto", "maxHeight": "320px",
                       "overflowY": "auto", "padding": "8px",
                       "background": "var(--gray-a2)", "borderRadius": "6px"},
            ),
            width="100%",
            min_width="0",
        ),
    )


def loading_block(label: str = "Loading…") -> rx.Component:
    return rx.center(rx.hstack(rx.spinner(), rx.text(label, color_scheme="gray")), padding="24px",
                     width="100%")


def for_this_address(shown_for: rx.Var, route_arg: str, content: rx.Component,
                     waiting: rx.Component) -> rx.Component:
    """`content` only while the state was loaded for the address the tab is at now.

    A page's state outlives a visit: at a new address the tab still holds what it showed at
    the last one until the page's on_load has finished. `shown_for` is the route argument the
    state was loaded for (`routes.path_segment`), compared with the route's own var."""
    return rx.cond(shown_for == getattr(rx.State, route_arg), content, waiting)


def time_text(value: rx.Var, **props: object) -> rx.Component:
    """An ISO timestamp shown in the reader's local time (a dash when empty)."""
    return rx.cond(
        value != "",
        rx.moment(value, format="YYYY-MM-DD HH:mm:ss", local=True, white_space="nowrap",
                  **props),
        rx.text("—", as_="span", color_scheme="gray"),
    )


def relative_time(value: rx.Var) -> rx.Component:
    return rx.cond(value != "", rx.moment(value, from_now=True, local=True),
                   rx.text("—", as_="span", color_scheme="gray"))
