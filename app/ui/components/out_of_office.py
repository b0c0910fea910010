"""The "Out of office" card of the approvals inbox: who decides your items while you are away."""

from __future__ import annotations

import reflex as rx

from app.ui.components.common import error_text
from app.ui.components.form_fields import WIDE_SELECT_STYLE
from app.ui.states.out_of_office import OutOfOfficeState as State


def _under(control: rx.Component, label: str, field: str) -> rx.Component:
    """A labelled control with its error right under it."""
    error = State.field_errors.get(field, "")
    return rx.vstack(
        rx.text(label, size="1", weight="medium"),
        control,
        rx.cond(error != "", rx.text(error, size="1", color="var(--red-11)", role="alert",
                                     data_testid="ooo-error-" + field)),
        spacing="1", align="start", flex="1 1 180px", min_width="0",
    )


def _form() -> rx.Component:
    return rx.vstack(
        rx.flex(
            _under(rx.el.select(
                rx.foreach(State.delegate_choices, lambda email: rx.el.option(email, value=email)),
                value=State.delegate_email, on_change=State.set_delegate,
                style=WIDE_SELECT_STYLE, data_testid="ooo-delegate"),
                "Who decides in your place", "delegate_email"),
            _under(rx.input(type="date", value=State.first_day, on_change=State.set_first_day,
                            width="100%", data_testid="ooo-from"), "From (UTC day)",
                   "starts_at"),
            _under(rx.input(type="date", value=State.last_day, on_change=State.set_last_day,
                            width="100%", data_testid="ooo-to"), "To, inclusive (UTC day)",
                   "ends_at"),
            spacing="3", wrap="wrap", width="100%",
        ),
        rx.flex(
            rx.button("Cancel", variant="soft", color_scheme="gray", size="2",
                      on_click=State.cancel),
            rx.button(rx.cond(State.saving, rx.spinner(size="1"), rx.icon("check", size=14)),
                      "Save", size="2", on_click=State.save, disabled=State.saving,
                      data_testid="ooo-save"),
            spacing="2", justify="end", width="100%",
        ),
        spacing="3", width="100%",
    )


def _summary() -> rx.Component:
    return rx.flex(
        rx.icon("plane", size=16, color=rx.cond(State.away_set, "var(--violet-10)",
                                                 "var(--gray-10)")),
        rx.cond(
            State.away_set,
            rx.text(rx.cond(State.away_active, "You are out of office", "Out of office"),
                    " from ", rx.text(State.away_first_day, as_="span", weight="medium"),
                    " to ", rx.text(State.away_last_day, as_="span", weight="medium"),
                    " (UTC): ", rx.text(State.away_delegate, as_="span", weight="medium"),
                    " decides the items that name you.", size="2",
                    data_testid="ooo-summary"),
            rx.text("Away soon? Name a colleague who decides the items that name you while "
                    "you are out.", size="2", color_scheme="gray"),
        ),
        rx.spacer(),
        rx.cond(~State.editing, rx.button(
            rx.cond(State.away_set, "Change", "Set out of office"), variant="soft", size="1",
            on_click=State.edit, data_testid="ooo-edit")),
        rx.cond(State.away_set, rx.button("I'm back", variant="ghost", size="1",
                                          color_scheme="gray", on_click=State.clear,
                                          data_testid="ooo-clear")),
        spacing="2", align="center", wrap="wrap", width="100%",
    )


def out_of_office_card() -> rx.Component:
    """Shown to members who may decide approvals."""
    return rx.cond(
        State.can_decide,
        rx.card(
            rx.vstack(_summary(), rx.cond(State.editing, _form()), error_text(State.error),
                      spacing="3", width="100%"),
            width="100%", margin_bottom="12px", data_testid="out-of-office",
            background=rx.cond(State.away_active, "var(--violet-a2)", None),
        ),
    )
