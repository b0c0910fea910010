"""The public form page (/f/<slug>): anyone with the link, no sign-in, no app chrome."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import for_this_address, status_badge
from app.ui.components.form_fields import field_block
from app.ui.states.public_form import PublicFormState as S

RUN_STATUS_TEXT = (
    ("IN_PROGRESS", "We are processing your request."),
    ("BLOCKED", "Your request is waiting for a person's approval."),
    ("FLAGGED", "Your request needs attention from our team."),
    ("COMPLETED", "Your request has been completed."),
    ("CANCELLED", "Your request was cancelled."),
)


def _frame(*children: rx.Component) -> rx.Component:
    return rx.box(
        rx.center(
            rx.card(rx.vstack(*children, spacing="4", width="100%"), size="3", width="100%"),
            width="100%", max_width="560px", margin_x="auto",
        ),
        padding=rx.breakpoints(initial="16px", sm="48px 16px"),
        min_height="100vh", background="var(--gray-2)",
    )


def _open_form() -> rx.Component:
    return rx.vstack(
        rx.heading(S.title, size="6", as_="h1"),
        rx.cond(S.description != "", rx.text(S.description, color_scheme="gray")),
        rx.form(
            rx.vstack(
                rx.foreach(S.fields, lambda spec: field_block(
                    spec, error=S.errors.get(spec["name"].to(str), ""),
                    value=S.values.get(spec["name"].to(str), ""))),
                rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert",
                                                  color_scheme="red", size="1", width="100%",
                                                  role="alert", data_testid="form-error")),
                rx.button(rx.cond(S.submitting, rx.spinner(size="2"), rx.fragment()), "Submit",
                          type="submit", size="3", width="100%", disabled=S.submitting,
                          data_testid="submit"),
                spacing="4", width="100%",
            ),
            on_submit=S.submit, no_validate=True, width="100%",
        ),
        spacing="3", width="100%",
    )


def _thanks() -> rx.Component:
    return rx.vstack(
        rx.icon("circle-check", size=40, color="var(--green-9)"),
        rx.heading("Thank you!", size="6", as_="h1"),
        rx.text(S.success_message, data_testid="thanks"),
        rx.cond(S.run_status != "", rx.hstack(
            status_badge(S.run_status),
            rx.text(rx.match(S.run_status, *RUN_STATUS_TEXT, ""), size="2",
                    color_scheme="gray"),
            align="center", spacing="2", data_testid="run-status")),
        rx.button("Submit another response", variant="soft", on_click=S.another),
        align="center", spacing="3", width="100%", text_align="center",
    )


def _closed() -> rx.Component:
    return rx.vstack(
        rx.icon("lock", size=36, color="var(--gray-9)"),
        rx.heading(S.title, size="5", as_="h1"),
        rx.text(rx.cond(S.phase == "missing",
                        "There is no form at this address. Check the link you were given.",
                        "This form is not accepting responses right now."),
                color_scheme="gray", data_testid="form-closed"),
        align="center", spacing="3", width="100%", text_align="center",
    )


def public_form_page() -> rx.Component:
    spinner = rx.center(rx.spinner(), padding="24px", width="100%")
    return _frame(for_this_address(S.form_slug, "slug", rx.match(
        S.phase,
        ("open", _open_form()),
        ("thanks", _thanks()),
        ("closed", _closed()),
        ("missing", _closed()),
        spinner,
    ), spinner))


def register(app: rx.App) -> None:
    app.add_page(public_form_page, route=routes.PUBLIC_FORM, title="Form", on_load=S.load)
