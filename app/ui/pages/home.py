"""A minimal root page showing the product is up (the real pages come with their issue)."""

from __future__ import annotations

import reflex as rx


def home() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("Flowdesk", size="8"),
            rx.text("Forms, workflows and approvals. The server is running."),
            rx.link("API reference", href="/api/v1/docs"),
            spacing="3",
            align="center",
        ),
        height="100vh",
    )
