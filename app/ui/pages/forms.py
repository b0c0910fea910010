"""The forms list (/forms): status, workflow, submissions; create, delete."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    loading_block,
    page_header,
    relative_time,
)
from app.ui.components.form_fields import WIDE_SELECT_STYLE
from app.ui.components.layout import layout
from app.ui.states.auth import AuthState, guarded
from app.ui.states.forms import FormsState as S


def _row(row: rx.Var) -> rx.Component:
    form_id = row["id"].to(str)
    slug = row["slug"].to(str)
    return rx.table.row(
        rx.table.cell(rx.vstack(
            rx.link(row["title"], href=routes.FORMS + "/" + form_id, weight="medium",
                    data_testid="form-link"),
            rx.text(row["fields"], " fields", size="1", color_scheme="gray"),
            spacing="1")),
        rx.table.cell(rx.cond(
            row["is_published"].to(bool),
            rx.vstack(rx.badge("published", color_scheme="green", variant="soft"),
                      rx.link(routes.PUBLIC_FORM_PREFIX + "/" + slug,
                              href=routes.PUBLIC_FORM_PREFIX + "/" + slug, size="1",
                              is_external=True), spacing="1"),
            rx.badge("unpublished", color_scheme="gray", variant="soft"))),
        rx.table.cell(rx.cond(row["workflow_id"].to(str) != "",
                              rx.link(row["workflow_title"],
                                      href=routes.WORKFLOWS + "/" + row["workflow_id"].to(str),
                                      size="2"),
                              rx.text("none", size="2", color_scheme="gray"))),
        rx.table.cell(rx.vstack(
            rx.link(row["submissions"],
                    rx.cond(row["submissions"].to(int) == 1, " submission", " submissions"),
                    href=routes.FORMS + "/" + form_id + "/submissions", size="2",
                    data_testid="submissions-link"),
            rx.text("last ", relative_time(row["last_submission_at"].to(str)), size="1",
                    color_scheme="gray"),
            spacing="1")),
        rx.table.cell(rx.cond(AuthState.can_build, rx.icon_button(
            rx.icon("trash-2", size=14), variant="ghost", color_scheme="red",
            on_click=S.ask_delete(form_id, row["title"].to(str)), aria_label="Delete form"))),
    )


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("New form"),
            rx.dialog.description("With a workflow, the form starts with its input fields "
                                  "and every submission starts a run.", size="2"),
            rx.form(rx.vstack(
                rx.input(name="title", placeholder="Title", required=True, width="100%",
                         data_testid="new-form-title"),
                rx.el.select(
                    rx.el.option("No workflow (collect responses only)", value=""),
                    rx.foreach(S.workflow_options,
                               lambda o: rx.el.option(o["label"], value=o["value"])),
                    name="workflow_id", style=WIDE_SELECT_STYLE,
                    data_testid="new-form-workflow"),
                error_text(S.create_error),
                rx.hstack(rx.dialog.close(rx.button("Cancel", type="button", variant="soft",
                                                    color_scheme="gray")),
                          rx.button("Create and open", type="submit",
                                    data_testid="create-form"),
                          justify="end", width="100%"),
                spacing="3"), on_submit=S.create),
            max_width="460px",
        ),
        open=S.create_open, on_open_change=lambda _o: S.close_create(),
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this form?"),
            rx.alert_dialog.description(rx.text(
                "“", S.delete_title, "” stops accepting responses and disappears from "
                "lists; its submissions and their runs are kept.")),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray",
                                                 on_click=S.cancel_delete)),
                rx.alert_dialog.action(rx.button("Delete", color_scheme="red",
                                                 on_click=S.delete)),
                justify="end", spacing="3", margin_top="16px",
            ),
        ),
        open=S.delete_id != "",
    )


def forms_page() -> rx.Component:
    return layout(
        page_header(
            "Forms",
            rx.cond(AuthState.can_build, rx.button(
                rx.icon("plus", size=14), "New form", on_click=S.open_create,
                data_testid="new-form")),
            subtitle="Public forms anyone with the link can fill in; each response can "
                     "start a workflow.",
        ),
        error_text(S.error),
        rx.input(rx.input.slot(rx.icon("search", size=14)), placeholder="Search by title",
                 value=S.search, on_change=S.set_search, width="280px", margin_bottom="12px"),
        rx.cond(~S.loaded, loading_block(), rx.cond(
            S.rows.length() > 0,
            rx.box(rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                    "Form", "Status", "Starts workflow", "Submissions", "")])),
                rx.table.body(rx.foreach(S.rows, _row)),
                width="100%"), overflow_x="auto", width="100%"),
            empty_state("file-text", "No forms here",
                        rx.cond(S.search != "", "Nothing matches the search.",
                                "Create one with New form; pick a workflow so each "
                                "response starts a run.")))),
        _create_dialog(),
        _delete_dialog(),
    )


def register(app: rx.App) -> None:
    app.add_page(forms_page, route=routes.FORMS, title="Forms · Flowdesk",
                 on_load=guarded(S.load))
