"""Sign-in: email and password; errors (wrong password, throttled) show under the form."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import error_text, lone_card, notice_text
from app.ui.states.auth import AuthState


def sign_in_page() -> rx.Component:
    return lone_card(
        rx.form(
            rx.vstack(
                rx.hstack(rx.icon("waypoints", size=26, color="var(--accent-9)"),
                          rx.heading("Flowdesk", size="6"), align="center"),
                rx.text("Sign in to your workspace", color_scheme="gray"),
                notice_text(AuthState.session_notice),
                rx.vstack(
                    rx.text("Email", as_="label", size="2", weight="medium",
                            html_for="email"),
                    rx.input(id="email", name="email", type="email",
                             placeholder="you@company.com",
                             auto_complete="username", required=True, width="100%",
                             size="3", auto_focus=True),
                    spacing="1", width="100%",
                ),
                rx.vstack(
                    rx.text("Password", as_="label", size="2", weight="medium",
                            html_for="password"),
                    rx.input(id="password", name="password", type="password",
                             auto_complete="current-password", required=True, width="100%",
                             size="3"),
                    spacing="1", width="100%",
                ),
                error_text(AuthState.sign_in_error),
                rx.button(
                    rx.cond(AuthState.signing_in, rx.spinner(size="2"), rx.icon("log-in")),
                    "Sign in", type="submit", size="3", width="100%",
                    disabled=AuthState.signing_in, data_testid="sign-in-submit",
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthState.sign_in,
            width="100%",
        ),
        max_width="400px",
    )


def register(app: rx.App) -> None:
    app.add_page(sign_in_page, route=routes.SIGN_IN, title="Sign in · Flowdesk",
                 on_load=AuthState.open_sign_in)
