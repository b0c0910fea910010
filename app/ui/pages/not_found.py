"""The page for an address that is no page: what happened and where to go instead."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import lone_card

NOT_FOUND_ROUTE = "404"  # Reflex serves this page for every unknown path


def not_found_page() -> rx.Component:
    return lone_card(
        rx.vstack(
            rx.hstack(rx.icon("waypoints", size=22, color="var(--accent-9)"),
                      rx.heading("Flowdesk", size="5"), align="center", spacing="2"),
            rx.icon("map-pin-off", size=32, color="var(--gray-9)"),
            rx.heading("This page does not exist", size="5", data_testid="not-found"),
            rx.text("The address may be mistyped, or what it pointed to was deleted.",
                    color_scheme="gray", size="2", text_align="center"),
            rx.hstack(
                rx.link(rx.button("Go to the dashboard"), href=routes.DASHBOARD),
                rx.link(rx.button("Runs", variant="soft"), href=routes.RUNS),
                spacing="2",
            ),
            align="center",
            spacing="3",
        ),
        max_width="440px",
    )


def register(app: rx.App) -> None:
    app.add_page(not_found_page, route=NOT_FOUND_ROUTE, title="Page not found · Flowdesk")
