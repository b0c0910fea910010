"""Dashboard (first cut)."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import page_header
from app.ui.components.layout import layout
from app.ui.states.auth import AuthState, guarded


def dashboard_page() -> rx.Component:
    return layout(
        page_header("Dashboard", subtitle=AuthState.workspace_name),
        rx.text("Welcome, ", AuthState.user_name),
    )


def register(app: rx.App) -> None:
    app.add_page(dashboard_page, route=routes.DASHBOARD, title="Dashboard · Flowdesk",
                 on_load=guarded())
