"""Runs: a filterable, paged list whose statuses update live."""

from __future__ import annotations

import reflex as rx

from app.models import RunStatus
from app.services.run_lists import RunRow
from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    loading_block,
    page_header,
    relative_time,
    status_badge,
    time_text,
)
from app.ui.components.layout import layout
from app.ui.states.auth import guarded
from app.ui.states.runs import ALL, RunsState


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, spacing="1",
                     flex="1 1 150px", min_width="0")


def _filters() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                _labelled("Status", rx.select.root(
                    rx.select.trigger(width="100%", data_testid="filter-status"),
                    rx.select.content(
                        rx.select.item("All statuses", value=ALL),
                        *[rx.select.item(s, value=s) for s in RunStatus.ALL],
                    ),
                    value=RunsState.status, on_change=RunsState.set_status)),
                _labelled("Workflow", rx.select.root(
                    rx.select.trigger(width="100%", data_testid="filter-workflow"),
                    rx.select.content(
                        rx.select.item("All workflows", value=ALL),
                        rx.foreach(RunsState.workflows,
                                   lambda w: rx.select.item(w["title"], value=w["id"])),
                    ),
                    value=RunsState.workflow_id, on_change=RunsState.set_workflow)),
                _labelled("From", rx.input(type="date", value=RunsState.date_from,
                                           on_change=RunsState.set_date_from, width="100%",
                                           data_testid="filter-from")),
                _labelled("To", rx.input(type="date", value=RunsState.date_to,
                                         on_change=RunsState.set_date_to, width="100%",
                                         data_testid="filter-to")),
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            rx.form(
                rx.flex(
                    rx.input(name="search", placeholder="Search run id or workflow title",
                             default_value=RunsState.search, flex="1 1 200px",
                             data_testid="filter-search"),
                    rx.button(rx.icon("search", size=14), "Search", type="submit",
                              variant="soft"),
                    rx.cond(RunsState.has_filters,
                            rx.button("Clear filters", variant="ghost", type="button",
                                      on_click=RunsState.clear_filters)),
                    spacing="2",
                    wrap="wrap",
                    width="100%",
                ),
                on_submit=RunsState.apply_search,
                width="100%",
            ),
            error_text(RunsState.filter_error),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


# Phones show run, status and created; wider screens add step, duration and trigger.
WIDE_ONLY = rx.breakpoints(initial="none", sm="table-cell")


def _row(run: RunRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(rx.text(run.workflow_title, weight="medium"), href=routes.RUNS + "/" + run.id),
            rx.text(run.id, size="1", color_scheme="gray", font_family="monospace",
                    display=rx.breakpoints(initial="none", sm="block")),
        ),
        rx.table.cell(rx.box(status_badge(run.status), data_testid="run-row-status")),
        rx.table.cell(rx.text(run.current_step, size="2"), display=WIDE_ONLY),
        rx.table.cell(
            rx.box(relative_time(run.created_at), display=rx.breakpoints(initial="block",
                                                                         sm="none")),
            rx.box(time_text(run.created_at, font_size="13px"),
                   display=rx.breakpoints(initial="none", sm="block")),
        ),
        rx.table.cell(rx.text(run.duration, size="2", white_space="nowrap"), display=WIDE_ONLY),
        rx.table.cell(rx.badge(run.trigger, variant="surface"), display=WIDE_ONLY),
        data_testid="run-row",
        data_run_id=run.id,
    )


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Run"),
                rx.table.column_header_cell("Status"),
                rx.table.column_header_cell("Step", display=WIDE_ONLY),
                rx.table.column_header_cell("Created"),
                rx.table.column_header_cell("Duration", display=WIDE_ONLY),
                rx.table.column_header_cell("Trigger", display=WIDE_ONLY),
            )),
            rx.table.body(rx.foreach(RunsState.rows, _row)),
            width="100%",
            variant="surface",
        ),
        width="100%",
        overflow_x="auto",
    )


def _pager() -> rx.Component:
    return rx.flex(
        rx.button(rx.icon("chevron-left", size=14), "Newer", variant="soft",
                  disabled=RunsState.page_number <= 1, on_click=RunsState.newer),
        rx.text("Page ", RunsState.page_number, size="2", color_scheme="gray"),
        rx.button("Older", rx.icon("chevron-right", size=14), variant="soft",
                  disabled=RunsState.next_cursor == "", on_click=RunsState.older,
                  data_testid="older"),
        spacing="3",
        align="center",
        justify="end",
        width="100%",
    )


def runs_page() -> rx.Component:
    return layout(
        page_header("Runs", subtitle="Every run of every workflow, newest first; statuses "
                                     "update live"),
        rx.vstack(
            _filters(),
            rx.cond(
                ~RunsState.loaded,
                loading_block(),
                rx.cond(
                    RunsState.rows.length() > 0,
                    rx.vstack(_table(), _pager(), spacing="3", width="100%"),
                    rx.cond(
                        RunsState.has_filters,
                        empty_state("search-x", "No run matches these filters",
                                    "Widen the dates, pick another status, or clear filters.",
                                    rx.button("Clear filters", on_click=RunsState.clear_filters,
                                              variant="soft")),
                        empty_state("play", "No runs yet",
                                    "Publish a workflow and start it from its page, a public "
                                    "form, a schedule or POST /api/v1/workflows/{id}/runs.",
                                    rx.link("Go to workflows", href=routes.WORKFLOWS)),
                    ),
                ),
            ),
            spacing="4",
            width="100%",
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(runs_page, route=routes.RUNS, title="Runs · Flowdesk",
                 on_load=guarded(RunsState.open_page))
