"""A form's submissions (/forms/<id>/submissions): table, pages, date filter, CSV, runs."""

from __future__ import annotations

import reflex as rx

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
from app.ui.states.auth import guarded
from app.ui.states.submissions import SubmissionsState as S


def _row(row: rx.Var) -> rx.Component:
    run_id = row["run_id"].to(str)
    return rx.table.row(
        rx.table.cell(time_text(row["created_at"].to(str)), white_space="nowrap"),
        rx.table.cell(rx.badge(row["version"].to(str), color_scheme="gray", variant="soft")),
        rx.foreach(row["cells"].to(list[dict[str, str]]), lambda value: rx.table.cell(
            rx.cond(value["href"] != "",
                    rx.link(rx.hstack(rx.icon("paperclip", size=12), rx.text(value["text"]),
                                      spacing="1", align="center"),
                            href=value["href"], size="2", is_external=True,
                            data_testid="submission-file"),
                    rx.text(value["text"], size="2", truncate=True, max_width="240px")))),
        rx.table.cell(rx.cond(run_id != "", rx.hstack(
            rx.link(rx.code(run_id, size="1"), href=routes.RUNS + "/" + run_id,
                    data_testid="submission-run"),
            status_badge(row["run_status"].to(str)), spacing="2", align="center"),
            rx.text("—", color_scheme="gray"))),
        data_testid="submission-row",
    )


def _filters() -> rx.Component:
    return rx.flex(
        rx.hstack(rx.text("From", size="2"), rx.input(type="date", value=S.date_from,
                                                      on_change=S.set_date_from,
                                                      data_testid="date-from"),
                  align="center", spacing="2"),
        rx.hstack(rx.text("to", size="2"), rx.input(type="date", value=S.date_to,
                                                    on_change=S.set_date_to,
                                                    data_testid="date-to"),
                  align="center", spacing="2"),
        rx.cond((S.date_from != "") | (S.date_to != ""),
                rx.button("Clear", size="1", variant="ghost", on_click=S.clear_dates)),
        rx.text("Dates are whole days in UTC.", size="1", color_scheme="gray"),
        gap="3", wrap="wrap", align="center", margin_bottom="12px",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(S.total, rx.cond(S.total == 1, " submission", " submissions"), " · page ",
                S.page_number, size="2", color_scheme="gray"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=14), "Newer", size="1", variant="soft",
                  on_click=S.prev_page, disabled=S.page_number <= 1, data_testid="prev-page"),
        rx.button("Older", rx.icon("chevron-right", size=14), size="1", variant="soft",
                  on_click=S.next_page, disabled=S.next_cursor == "",
                  data_testid="next-page"),
        width="100%", align="center", margin_top="12px",
    )


def _table() -> rx.Component:
    return rx.vstack(
        rx.box(rx.table.root(
            rx.table.header(rx.table.row(
                rx.table.column_header_cell("Submitted"),
                rx.table.column_header_cell("Version"),
                rx.foreach(S.columns, lambda c: rx.table.column_header_cell(c)),
                rx.table.column_header_cell("Run"),
            )),
            rx.table.body(rx.foreach(S.rows, _row)),
            width="100%", size="1"), overflow_x="auto", width="100%"),
        _pager(),
        width="100%",
    )


def submissions_page() -> rx.Component:
    return layout(
        page_header(
            rx.text("Submissions: ", S.form_title),
            rx.link(rx.button(rx.icon("pencil", size=14), "Edit form", variant="soft",
                              color_scheme="gray"), href=routes.FORMS + "/" + S.fid),
            rx.button(rx.icon("download", size=14), "Export CSV", on_click=S.export_csv,
                      data_testid="export-csv"),
        ),
        error_text(S.error),
        _filters(),
        for_this_address(S.fid, "form_id", rx.cond(~S.loaded, loading_block(), rx.cond(
            S.rows.length() > 0, _table(),
            empty_state("inbox", "No submissions",
                        rx.cond((S.date_from != "") | (S.date_to != ""),
                                "None in these dates: widen or clear the filter.",
                                "Share the form's public link; responses appear here.")))),
            loading_block()),
    )


def register(app: rx.App) -> None:
    app.add_page(submissions_page, route=routes.FORM_SUBMISSIONS,
                 title="Submissions · Flowdesk", on_load=guarded(S.load))
