"""The schedule form, for a new schedule or one being edited: name, cron with its live preview,
time zone, the runs' input fields, the missed-fire policy; each field's error under it."""

from __future__ import annotations

import reflex as rx

from app.models import MissedPolicy
from app.ui.components.common import error_text
from app.ui.components.form_fields import field_block
from app.ui.states.schedules import SchedulesState as S

ZONE_LIST_ID = "schedule-zones"
POLICY_HINTS = {
    MissedPolicy.SKIP: "Due times missed while Flowdesk was not running are dropped; the next "
                       "run starts at the next due time.",
    MissedPolicy.RUN_ONCE: "If due times were missed while Flowdesk was not running, one run "
                           "starts for all of them when it is back, then the schedule goes on "
                           "as usual.",
}


def _label(text: str, html_for: str) -> rx.Component:
    return rx.el.label(text, html_for=html_for, style={"fontWeight": 500, "fontSize": "14px"})


def _field_error(message: rx.Var, test_id: str) -> rx.Component:
    return rx.cond(message != "", rx.text(message, size="2", color="var(--red-11)",
                                          role="alert", data_testid=test_id))


def _preview() -> rx.Component:
    return rx.cond(
        S.preview_words != "",
        rx.box(
            rx.text(S.preview_words, weight="medium", size="2", data_testid="cron-words"),
            rx.text("Next due (", S.timezone, "):", size="1", color_scheme="gray"),
            rx.vstack(rx.foreach(S.preview_times, lambda t: rx.text(
                t, size="1", font_family="monospace", data_testid="cron-next")), spacing="0"),
            padding="8px 10px", background="var(--accent-a2)",
            border_radius="var(--radius-2)", width="100%",
        ),
    )


def _cron_field() -> rx.Component:
    return rx.vstack(
        _label("Cron expression", "schedule-cron"),
        rx.input(value=S.cron, on_change=S.set_cron, id="schedule-cron", name="cron",
                 placeholder="0 9 * * 1-5", font_family="monospace", width="100%",
                 aria_invalid=rx.cond(S.cron_error != "", "true", "false"),
                 data_testid="schedule-cron"),
        rx.text("minute hour day-of-month month day-of-week (0 = Sunday); or @daily, "
                "@hourly, @weekly", size="1", color_scheme="gray"),
        _field_error(S.cron_error, "cron-error"),
        _preview(),
        spacing="1", width="100%", align="start",
    )


def _zone_field() -> rx.Component:
    return rx.vstack(
        _label("Time zone", "schedule-zone"),
        rx.input(value=S.timezone, on_change=S.set_timezone, id="schedule-zone", name="timezone",
                 width="100%", custom_attrs={"list": ZONE_LIST_ID},
                 aria_invalid=rx.cond(S.zone_error != "", "true", "false"),
                 data_testid="schedule-zone"),
        rx.el.datalist(rx.foreach(S.zones, lambda z: rx.el.option(value=z)), id=ZONE_LIST_ID),
        rx.text("An IANA name such as Europe/Berlin; due times follow its daylight saving.",
                size="1", color_scheme="gray"),
        _field_error(S.zone_error, "zone-error"),
        spacing="1", width="100%", align="start",
    )


def _policy_choice(value: str, label: str) -> rx.Component:
    return rx.text(rx.flex(rx.radio_group.item(value=value), label, spacing="2", align="center"),
                   as_="label", size="2", data_testid=f"policy-{value}")


def _policy_field() -> rx.Component:
    return rx.vstack(
        rx.text("Missed due times", size="2", weight="medium"),
        rx.radio_group.root(
            rx.flex(_policy_choice(MissedPolicy.SKIP, "Skip them"),
                    _policy_choice(MissedPolicy.RUN_ONCE, "Run once"), spacing="5", wrap="wrap"),
            value=S.policy, on_change=S.set_policy,
        ),
        rx.text(rx.match(S.policy, *POLICY_HINTS.items(), ""), size="1", color_scheme="gray"),
        _field_error(S.field_errors.get("missed_policy", ""), "policy-error"),
        spacing="1", width="100%", align="start",
    )


def _input_fields() -> rx.Component:
    return rx.vstack(
        rx.text("Input for each run", size="2", weight="medium"),
        rx.cond(S.input_fields.length() > 0,
                rx.vstack(rx.foreach(S.input_fields, lambda spec: field_block(
                    spec, error=S.field_errors.get(spec["name"].to(str), ""),
                    value=S.edit_input.get(spec["name"].to(str), ""))),
                    spacing="3", width="100%"),
                rx.text("The published workflow asks for no input.", size="2",
                        color_scheme="gray")),
        spacing="2", width="100%", align="start",
    )


def _buttons() -> rx.Component:
    editing = S.editing_id != ""
    return rx.flex(
        rx.button(rx.cond(S.busy == "save", rx.spinner(size="2"),
                          rx.cond(editing, rx.icon("save", size=16),
                                  rx.icon("calendar-plus", size=16))),
                  rx.cond(editing, "Save changes", "Save schedule"), type="submit",
                  disabled=(S.busy != "") | ~S.published, data_testid="save-schedule"),
        rx.cond(editing, rx.button("Cancel edit", type="button", variant="soft",
                                   color_scheme="gray", on_click=S.cancel_edit,
                                   data_testid="cancel-edit")),
        gap="2", wrap="wrap",
    )


def schedule_form() -> rx.Component:
    """Fields stay as typed when saving fails; a saved schedule clears the name and cron. The
    form remounts (its key) when a schedule is loaded into it or it returns to a new one, so the
    uncontrolled fields take their values."""
    return rx.card(rx.form(
        rx.vstack(
            rx.text(rx.cond(S.editing_id != "", "Edit schedule", "New schedule"),
                    weight="medium", size="3", data_testid="schedule-form-title"),
            rx.vstack(
                _label("Name", "schedule-name"),
                rx.input(name="name", id="schedule-name", placeholder="Weekday morning run",
                         default_value=S.edit_name, width="100%", max_length=200,
                         data_testid="schedule-name"),
                _field_error(S.field_errors.get("name", ""), "name-error"),
                spacing="1", width="100%", align="start",
            ),
            rx.grid(_cron_field(), _zone_field(),
                    columns=rx.breakpoints(initial="1", sm="2"), spacing="4", width="100%"),
            _input_fields(),
            _policy_field(),
            error_text(S.form_error),
            _buttons(),
            spacing="4", width="100%",
        ),
        on_submit=S.save, no_validate=True, width="100%", key=S.form_key,
    ), width="100%", id="schedule-form")
