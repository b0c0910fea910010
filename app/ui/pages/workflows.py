"""The workflows list (/workflows): search, status, runs; create, duplicate, delete, import,
export."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    loading_block,
    page_header,
    relative_time,
    status_badge,
)
from app.ui.components.layout import layout
from app.ui.states.auth import AuthState, guarded
from app.ui.states.workflows import WorkflowsState as S


def _runs(row: rx.Var) -> rx.Component:
    return rx.cond(
        row["run_count"].to(int) > 0,
        rx.vstack(
            rx.link(rx.text(row["run_count"],
                            rx.cond(row["run_count"].to(int) == 1, " run", " runs"), size="2"),
                    href=routes.RUNS + "?workflow_id=" + row["id"].to(str)),
            rx.flex(rx.foreach(row["runs"].to(list[dict]), lambda r: rx.badge(
                r["status"].to(str), " ", r["count"], variant="soft", size="1",
                color_scheme=rx.match(r["status"].to(str), ("COMPLETED", "green"),
                                      ("BLOCKED", "amber"), ("FLAGGED", "red"),
                                      ("IN_PROGRESS", "blue"), "gray"))),
                    gap="1", wrap="wrap"),
            spacing="1",
        ),
        rx.text("no runs", size="2", color_scheme="gray"),
    )


def _actions(row: rx.Var) -> rx.Component:
    workflow_id = row["id"].to(str)
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("ellipsis", size=16), variant="ghost",
                                       aria_label="Actions", data_testid="workflow-actions")),
        rx.menu.content(
            rx.menu.item(rx.icon("pencil", size=14), "Open builder",
                         on_click=rx.redirect(routes.WORKFLOWS + "/" + workflow_id)),
            rx.menu.item(rx.icon("calendar-clock", size=14), "Schedules",
                         on_click=rx.redirect(routes.WORKFLOWS + "/" + workflow_id
                                              + "/schedules")),
            rx.menu.item(rx.icon("copy", size=14), "Duplicate",
                         on_click=S.duplicate(workflow_id), disabled=~AuthState.can_build),
            rx.menu.item(rx.icon("download", size=14), "Export JSON",
                         on_click=S.export(workflow_id)),
            rx.menu.separator(),
            rx.menu.item(rx.icon("trash-2", size=14), "Delete…", color="red",
                         on_click=S.ask_delete(workflow_id, row["title"].to(str)),
                         disabled=~AuthState.can_build, data_testid="workflow-delete"),
        ),
    )


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.link(row["title"], href=routes.WORKFLOWS + "/" + row["id"].to(str),
                    weight="medium", data_testid="workflow-link"),
            rx.text(row["description"], size="1", color_scheme="gray", truncate=True,
                    max_width="360px"),
            spacing="1")),
        rx.table.cell(rx.hstack(status_badge(row["status"].to(str)), rx.cond(
            row["published_number"].to(int) > 0,
            rx.text("v", row["published_number"], size="1", color_scheme="gray")),
            align="center", spacing="2")),
        rx.table.cell(_runs(row)),
        rx.table.cell(relative_time(row["last_run_at"].to(str))),
        rx.table.cell(relative_time(row["updated_at"].to(str))),
        rx.table.cell(_actions(row)),
        data_testid="workflow-row",
    )


def _table() -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Workflow", "Status", "Runs", "Last run", "Updated", "")])),
            rx.table.body(rx.foreach(S.rows, _row)),
            width="100%",
        ),
        overflow_x="auto", width="100%",
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search by title or id",
                 value=S.search, on_change=S.set_search, width="280px",
                 data_testid="workflow-search"),
        rx.segmented_control.root(
            rx.segmented_control.item("All", value="all"),
            rx.segmented_control.item("Draft", value="draft"),
            rx.segmented_control.item("Published", value="published"),
            value=S.status_filter, on_change=S.set_status_filter,
        ),
        gap="3", wrap="wrap", align="center", margin_bottom="12px",
    )


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New workflow"),
            rx.form(rx.vstack(
                rx.input(name="title", placeholder="Title", required=True, auto_focus=True,
                         width="100%", data_testid="new-workflow-title"),
                rx.text_area(name="description", placeholder="Description (optional)",
                             width="100%"),
                error_text(S.create_error),
                rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft",
                                                    color_scheme="gray")),
                          rx.button("Create and open", type="submit",
                                    data_testid="create-workflow"),
                          justify="end", width="100%"),
                spacing="3"), on_submit=S.create),
            max_width="440px",
        ),
        open=S.create_open, on_open_change=lambda _o: S.close_create(),
    )


def _import_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Import a workflow"),
            rx.dialog.description(
                "Paste an export of ours, a bare definition, or a seed-004 flow "
                "({\"start\": {\"tool\": …}}). Problems are shown in the builder.", size="2"),
            rx.form(rx.vstack(
                rx.input(name="title", placeholder="Title (optional)", width="100%"),
                rx.text_area(name="json", placeholder='{"start": "…", "steps": {…}}',
                             rows="12", width="100%", font_family="monospace",
                             data_testid="import-json"),
                error_text(S.import_error),
                rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft",
                                                    color_scheme="gray")),
                          rx.button("Import", type="submit", data_testid="import-submit"),
                          justify="end", width="100%"),
                spacing="3"), on_submit=S.import_json),
            max_width="640px",
        ),
        open=S.import_open, on_open_change=lambda _o: S.close_import(),
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this workflow?"),
            rx.alert_dialog.description(
                rx.text("“", S.delete_title, "” disappears from lists; its past runs keep "
                        "their history. Forms that start it stop working.")),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=S.cancel_delete)),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                                 on_click=S.delete,
                                                 data_testid="confirm-delete")),
                justify="end", spacing="3", margin_top="16px",
            ),
        ),
        open=S.delete_id != "",
    )


def workflows_page() -> rx.Component:
    return layout(
        page_header(
            "Workflows",
            rx.cond(AuthState.can_build, rx.fragment(
                rx.button(rx.icon("upload", size=14), "Import", variant="soft",
                          on_click=S.open_import, data_testid="open-import"),
                rx.button(rx.icon("plus", size=14), "New workflow", on_click=S.open_create,
                          data_testid="new-workflow"),
            )),
            subtitle="Build flows of steps on a canvas; publish them to run.",
        ),
        error_text(S.error),
        _filters(),
        rx.cond(~S.loaded, loading_block(),
                rx.cond(S.rows.length() > 0, _table(), empty_state(
                    "workflow", "No workflows here",
                    rx.cond((S.search != "") | (S.status_filter != "all"),
                            "Nothing matches: clear the search or the status filter.",
                            "Create one with New workflow, or import a JSON definition.")))),
        _create_dialog(),
        _import_dialog(),
        _delete_dialog(),
    )


def register(app: rx.App) -> None:
    app.add_page(workflows_page, route=routes.WORKFLOWS, title="Workflows · Flowdesk",
                 on_load=guarded(S.load))
