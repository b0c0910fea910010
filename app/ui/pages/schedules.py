"""A workflow's schedules (/workflows/<id>/schedules): the list with edit, pause/resume, run now
and delete, a form with a live cron preview (new or edited schedule), and the selected
schedule's history."""

from __future__ import annotations

import reflex as rx

from app.models import FireKind
from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    for_this_address,
    loading_block,
    page_header,
    status_badge,
    time_text,
)
from app.ui.components.layout import layout
from app.ui.components.schedule_form import schedule_form
from app.ui.states.auth import AuthState, guarded
from app.ui.states.schedules import FireRow, ScheduleRow
from app.ui.states.schedules import SchedulesState as S

FIRE_COLORS = {FireKind.FIRED: "green", FireKind.RUN_NOW: "blue", FireKind.MISSED: "amber",
               FireKind.FAILED: "red"}
FIRE_LABELS = {FireKind.FIRED: "fired", FireKind.RUN_NOW: "run now", FireKind.MISSED: "missed",
               FireKind.FAILED: "failed"}


def _run_link(run_id: rx.Var) -> rx.Component:
    return rx.link(rx.code(run_id, size="1"), href=routes.RUNS + "/" + run_id,
                   data_testid="run-link")


def _header() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text("Builder", size="2"),
                          align="center", spacing="1"),
                href=routes.WORKFLOWS + "/" + S.wf_id, color="var(--gray-11)"),
        page_header(
            S.workflow_title,
            rx.link(rx.button(rx.icon("play", size=14), "Runs", variant="soft",
                              color_scheme="gray"),
                    href=routes.RUNS + "?workflow_id=" + S.wf_id),
            subtitle="Schedules: start runs of this workflow on a timetable, in a time zone, "
                     "with the same input each time.",
        ),
        spacing="1", width="100%",
    )


def _notices() -> rx.Component:
    return rx.vstack(
        rx.cond(~S.published, rx.callout(
            "This workflow has no published version: publish it in the builder before it "
            "can be scheduled.", icon="rocket", color_scheme="orange", width="100%",
            data_testid="unpublished")),
        rx.cond(~AuthState.can_build, rx.callout(
            "You can see these schedules, but only builders and admins can create, pause or "
            "delete them.", icon="lock", color_scheme="gray", width="100%",
            data_testid="no-build-permission")),
        rx.cond(S.started_run != "", rx.callout(
            rx.hstack(rx.text("Run started:", size="2"),
                      rx.link(S.started_run, href=routes.RUNS + "/" + S.started_run,
                              data_testid="started-run-link"),
                      align="center", spacing="2", wrap="wrap"),
            icon="circle-play", color_scheme="green", width="100%")),
        spacing="2", width="100%",
    )


def _delete_button(row: ScheduleRow) -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(rx.icon("trash-2", size=14), "Delete", size="1",
                                          variant="soft", color_scheme="red",
                                          disabled=~AuthState.can_build,
                                          data_testid="delete-schedule")),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this schedule?"),
            rx.alert_dialog.description("No more runs start from it, and its history goes "
                                        "with it. Runs it started stay."),
            rx.flex(rx.alert_dialog.cancel(rx.button("Keep", variant="soft",
                                                     color_scheme="gray")),
                    rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                                     on_click=S.delete(row.id),
                                                     data_testid="confirm-delete")),
                    spacing="2", justify="end", margin_top="16px"),
        ),
    )


def _actions(row: ScheduleRow) -> rx.Component:
    busy = S.busy == row.id
    return rx.vstack(
        rx.flex(
            rx.button(rx.icon("pencil", size=14), "Edit", size="1",
                      variant=rx.cond(S.editing_id == row.id, "solid", "soft"),
                      disabled=~AuthState.can_build | busy, on_click=S.edit(row.id),
                      data_testid="edit-schedule"),
            rx.button(rx.cond(row.enabled, rx.icon("pause", size=14), rx.icon("play", size=14)),
                      rx.cond(row.enabled, "Pause", "Resume"), size="1", variant="soft",
                      disabled=~AuthState.can_build | busy,
                      on_click=S.set_enabled(row.id, ~row.enabled),
                      data_testid="toggle-schedule"),
            rx.button(rx.cond(busy, rx.spinner(size="1"), rx.icon("zap", size=14)), "Run now",
                      size="1", variant="soft", disabled=~S.can_run | busy,
                      on_click=S.run_now(row.id), data_testid="run-now"),
            rx.button(rx.icon("history", size=14), "History", size="1",
                      variant=rx.cond(S.selected_id == row.id, "solid", "soft"),
                      color_scheme="gray", on_click=S.select(row.id),
                      data_testid="show-history"),
            _delete_button(row),
            gap="2", wrap="wrap",
        ),
        rx.cond(S.row_errors.get(row.id, "") != "",
                rx.text(S.row_errors.get(row.id, ""), size="1", color_scheme="red",
                        role="alert")),
        spacing="1",
    )


def _schedule_row(row: ScheduleRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row.name, weight="medium", size="2")),
        rx.table.cell(rx.vstack(rx.code(row.cron, size="1"),
                                rx.text(row.description, size="1", color_scheme="gray"),
                                spacing="1")),
        rx.table.cell(rx.text(row.timezone, size="2")),
        rx.table.cell(rx.cond(row.next_due != "",
                              rx.text(row.next_due, size="1", white_space="nowrap"),
                              rx.text("—", color_scheme="gray"))),
        rx.table.cell(rx.badge(rx.cond(row.enabled, "Enabled", "Paused"),
                               color_scheme=rx.cond(row.enabled, "green", "gray"),
                               data_testid="schedule-state")),
        rx.table.cell(rx.cond(row.last_run_id != "", _run_link(row.last_run_id),
                              rx.text("—", color_scheme="gray"))),
        rx.table.cell(_actions(row)),
        background=rx.cond(S.selected_id == row.id, "var(--accent-a2)", "transparent"),
        data_testid="schedule-row",
    )


def _schedules() -> rx.Component:
    return rx.cond(
        S.rows.length() > 0,
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Name", "When", "Time zone", "Next due", "State", "Last run", "")])),
            rx.table.body(rx.foreach(S.rows, _schedule_row)),
            size="1", width="100%"), width="100%", overflow_x="auto"),
        empty_state("calendar-clock", "No schedules yet",
                    "Add one below: a cron expression, a time zone and the input each run "
                    "gets."),
    )


def _fire_row(fire: FireRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.badge(rx.match(fire.kind, *FIRE_LABELS.items(), fire.kind),
                               color_scheme=rx.match(fire.kind, *FIRE_COLORS.items(), "gray"),
                               variant="soft", data_testid="fire-kind")),
        rx.table.cell(time_text(fire.due_at, font_size="12px")),
        rx.table.cell(time_text(fire.at, font_size="12px")),
        rx.table.cell(rx.cond(fire.missed > 0, rx.text(fire.missed, size="2"),
                              rx.text("—", color_scheme="gray"))),
        rx.table.cell(rx.cond(fire.run_id != "", rx.hstack(
            _run_link(fire.run_id), rx.cond(fire.run_status != "", status_badge(
                fire.run_status)), spacing="2", align="center"),
            rx.text("—", color_scheme="gray"))),
        rx.table.cell(rx.text(fire.detail, size="1", color_scheme="gray"), max_width="280px"),
        data_testid="fire-row",
    )


def _history() -> rx.Component:
    return rx.cond(
        S.selected_id != "",
        rx.card(rx.vstack(
            rx.text("History of ", rx.text(S.selected_name, as_="span", weight="bold"),
                    " (newest first, updates live)", size="2"),
            error_text(S.history_error),
            rx.cond(
                S.history.length() > 0,
                rx.box(rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                        "Kind", "Due", "At", "Missed", "Run", "Detail")])),
                    rx.table.body(rx.foreach(S.history, _fire_row)),
                    size="1", width="100%"), width="100%", overflow_x="auto"),
                rx.text("Nothing yet: the first due time, or Run now, appears here.",
                        size="2", color_scheme="gray"),
            ),
            spacing="2", width="100%",
        ), width="100%", data_testid="schedule-history"),
    )


def _body() -> rx.Component:
    return rx.vstack(
        _header(),
        _notices(),
        _schedules(),
        _history(),
        rx.cond(AuthState.can_build, schedule_form()),
        spacing="4", width="100%",
    )


def schedules_page() -> rx.Component:
    loading = loading_block("Loading…")
    return layout(for_this_address(
        S.shown_for, "workflow_id",
        rx.cond(S.load_error != "", error_text(S.load_error),
                rx.cond(S.loaded, _body(), loading)),
        loading))


def register(app: rx.App) -> None:
    app.add_page(schedules_page, route=routes.WORKFLOW_SCHEDULES,
                 title="Schedules · Flowdesk", on_load=guarded(S.load))
