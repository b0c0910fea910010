"""The visual workflow builder (/workflows/<id>): canvas, step panel, problems, JSON tab,
versions, save / publish / test run."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.builder_graph import KINDS
from app.ui.components.common import (
    error_text,
    for_this_address,
    loading_block,
    notice_text,
    status_badge,
    time_text,
)
from app.ui.components.error_workflow import error_workflow_control
from app.ui.components.flow_canvas import flow_canvas
from app.ui.components.form_fields import field_block
from app.ui.components.layout import layout
from app.ui.components.step_panel import step_panel
from app.ui.states.auth import guarded
from app.ui.states.builder import BuilderState as S

PANEL_WIDTH = "340px"
CANVAS_HEIGHT = "max(380px, calc(100vh - 300px))"


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.link(rx.icon("arrow-left", size=18), href=routes.WORKFLOWS,
                    aria_label="All workflows", color="var(--gray-11)"),
            rx.input(value=S.title, on_change=S.set_title, size="3", variant="soft",
                     placeholder="Workflow title", min_width="220px", max_width="380px",
                     read_only=S.read_only, data_testid="workflow-title"),
            status_badge(S.status),
            rx.cond(S.published_number > 0,
                    rx.badge("v", S.published_number, variant="outline", color_scheme="gray")),
            rx.cond(S.dirty & ~S.read_only,
                    rx.badge(rx.icon("circle-dot", size=12), "Unsaved changes",
                             color_scheme="orange", data_testid="unsaved-badge")),
            align="center", spacing="2", wrap="wrap",
        ),
        rx.hstack(
            rx.button(rx.icon("play", size=14), "Test run", variant="soft",
                      on_click=S.open_test,
                      disabled=(S.problem_count > 0) | S.read_only | ~S.can_edit,
                      data_testid="test-run"),
            rx.link(rx.button(rx.icon("calendar-clock", size=14), "Schedules", variant="soft",
                              color_scheme="gray"),
                    href=routes.WORKFLOWS + "/" + S.wf_id + "/schedules",
                    data_testid="open-schedules"),
            rx.button(rx.icon("download", size=14), "Export", variant="soft",
                      color_scheme="gray", on_click=S.export, data_testid="export"),
            rx.button(rx.cond(S.busy == "save", rx.spinner(size="1"), rx.icon("save", size=14)),
                      "Save", on_click=S.save, disabled=~S.dirty | S.read_only | ~S.can_edit,
                      variant=rx.cond(S.dirty, "solid", "soft"), data_testid="save"),
            rx.tooltip(
                rx.button(rx.cond(S.busy == "publish", rx.spinner(size="1"),
                                  rx.icon("rocket", size=14)),
                          "Publish", color_scheme="green", on_click=S.publish,
                          disabled=~S.can_publish, data_testid="publish"),
                content=rx.cond(~S.can_edit, "Only builders and admins can publish",
                                rx.cond(S.problem_count > 0, "Fix the problems first",
                                        "Save and freeze the draft as a new version")),
            ),
            spacing="2", wrap="wrap",
        ),
        justify="between", align="center", gap="3", wrap="wrap", width="100%",
    )


def _banners() -> rx.Component:
    return rx.vstack(
        rx.cond(S.conflict != "", rx.callout(
            rx.hstack(rx.text(S.conflict, size="2"), rx.button(
                "Reload latest", size="1", color_scheme="red", on_click=S.reload_latest,
                data_testid="reload-latest"), align="center", spacing="3", wrap="wrap"),
            icon="triangle-alert", color_scheme="red", width="100%", role="alert",
            data_testid="conflict")),
        rx.cond(S.read_only, rx.callout(
            rx.hstack(rx.text("Viewing published version ", S.viewing_number,
                              " (read-only).", size="2"),
                      rx.button("Back to the draft", size="1", variant="soft",
                                on_click=S.back_to_draft),
                      rx.button("Restore as the draft", size="1",
                                on_click=S.restore_version(S.viewing_number),
                                data_testid="restore-open-version"),
                      align="center", spacing="3", wrap="wrap"),
            icon="history", color_scheme="blue", width="100%")),
        error_text(S.error),
        notice_text(S.notice),
        spacing="2", width="100%",
    )


def _palette() -> rx.Component:
    return rx.flex(
        rx.text("Add step", size="2", weight="medium", color_scheme="gray", margin_right="4px"),
        *[rx.tooltip(rx.button(rx.icon(icon, size=14), label, size="1", variant="surface",
                               on_click=S.add_step(kind), disabled=S.read_only,
                               data_testid=f"palette-{kind}"),
                     content=hint + " (added after the selected step)")
          for kind, (label, icon, hint) in KINDS.items()],
        gap="2", wrap="wrap", align="center", width="100%",
    )


def _problems() -> rx.Component:
    return rx.cond(
        S.problem_count > 0,
        rx.box(
            rx.hstack(rx.icon("triangle-alert", size=16, color="var(--red-10)"),
                      rx.text(S.problem_count, " problem(s): publishing is disabled until "
                              "they are fixed", size="2", weight="medium"),
                      align="center", spacing="2"),
            rx.vstack(
                rx.foreach(S.problems, lambda p: rx.hstack(
                    rx.code(rx.cond(p["step"] != "", p["step"], "workflow"), size="1"),
                    rx.text(p["where"], ": ", p["message"], size="1"),
                    spacing="2", align="center", role="button", tab_index=0,
                    on_click=S.select_node(p["step"]), cursor="pointer",
                    _hover={"textDecoration": "underline"}, data_testid="problem-item")),
                spacing="1", max_height="110px", overflow_y="auto", width="100%",
                padding_top="4px",
            ),
            border="1px solid var(--red-a6)", background="var(--red-a2)",
            border_radius="var(--radius-3)", padding="8px 12px", width="100%",
            data_testid="problems",
        ),
        rx.cond(S.step_count > 0, rx.hstack(
            rx.icon("circle-check", size=16, color="var(--green-10)"),
            rx.text("No problems: ready to publish", size="2", color_scheme="green"),
            align="center", spacing="2", data_testid="no-problems")),
    )


def _edge_panel() -> rx.Component:
    return rx.vstack(
        rx.text("Link", weight="bold"),
        rx.code(S.selected_edge),
        rx.button(rx.icon("unlink", size=14), "Remove link", color_scheme="red",
                  variant="soft", size="1", on_click=S.delete_selected,
                  disabled=S.read_only, data_testid="remove-link"),
        rx.text("Or drag the link's end onto another step to move it.", size="1",
                color_scheme="gray"),
        spacing="2", width="100%",
    )


def _workflow_panel() -> rx.Component:
    return rx.vstack(
        rx.text("Workflow", weight="bold"),
        rx.text_area(value=S.description, on_change=S.set_description, rows="3", size="1",
                     placeholder="What this workflow is for", width="100%",
                     read_only=S.read_only, data_testid="workflow-description"),
        rx.text(S.step_count, " steps", size="2", color_scheme="gray"),
        error_workflow_control(),
        rx.callout(
            rx.vstack(
                rx.text("Add a step from the bar above; it is linked after the selected step."),
                rx.text("Drag from a dot at the bottom of a step to another step to link "
                        "them; drag a link's end elsewhere to move it."),
                rx.text("Click a step to edit it. Delete or Backspace removes what is selected."),
                spacing="1",
            ),
            icon="info", size="1", color_scheme="gray", width="100%",
        ),
        spacing="2", width="100%",
    )


def _side_panel() -> rx.Component:
    return rx.box(
        rx.cond(S.has_selection, step_panel(),
                rx.cond(S.selected_edge != "", _edge_panel(), _workflow_panel())),
        width=rx.breakpoints(initial="100%", md=PANEL_WIDTH),
        min_width=rx.breakpoints(initial="0", md=PANEL_WIDTH),
        height=rx.breakpoints(initial="auto", md=CANVAS_HEIGHT), overflow_y="auto",
        margin_left=rx.breakpoints(initial="0", md="12px"),
        margin_top=rx.breakpoints(initial="12px", md="0"), padding="12px",
        border="1px solid var(--gray-a5)", border_radius="var(--radius-3)",
        background="var(--color-panel-solid)",
    )


def _canvas_tab() -> rx.Component:
    return rx.vstack(
        _palette(),
        rx.flex(
            rx.box(
                flow_canvas(
                    nodes=S.nodes, edges=S.edges, read_only=S.read_only,
                    on_node_select=S.select_node, on_edge_select=S.select_edge,
                    on_pane_select=S.clear_selection, on_node_moved=S.node_moved,
                    on_connect_port=S.connect_port, on_reconnect_edge=S.reconnect_edge,
                    on_edges_removed=S.edges_removed, on_nodes_removed=S.nodes_removed,
                    height=CANVAS_HEIGHT,
                ),
                flex="1", min_width="0", width=rx.breakpoints(initial="100%", md="auto"),
            ),
            _side_panel(),
            direction=rx.breakpoints(initial="column", md="row"), width="100%", align="start",
        ),
        _problems(),
        spacing="3", width="100%",
    )


def _json_tab() -> rx.Component:
    return rx.vstack(
        rx.text("The definition as the API sees it (DESIGN §3). Edit it and apply, then save.",
                size="2", color_scheme="gray"),
        rx.text_area(value=rx.cond(S.read_only, S.shown_json, S.json_text),
                     on_change=S.set_json_text, read_only=S.read_only, font_family="monospace",
                     size="1", width="100%", height="60vh", data_testid="json-text"),
        error_text(S.json_error),
        rx.button("Apply to the draft", on_click=S.apply_json, disabled=S.read_only,
                  data_testid="apply-json"),
        spacing="2", width="100%",
    )


def _versions_tab() -> rx.Component:
    def row(v: rx.Var) -> rx.Component:
        return rx.table.row(
            rx.table.cell(rx.hstack(rx.text("v", v["number"]), rx.cond(
                v["is_current"], rx.badge("current", color_scheme="green")), spacing="2")),
            rx.table.cell(v["published_by"]),
            rx.table.cell(time_text(v["published_at"].to(str))),
            rx.table.cell(v["steps"]),
            rx.table.cell(rx.hstack(
                rx.button("Open", size="1", variant="soft",
                          on_click=S.open_version(v["number"].to(int)),
                          data_testid="open-version"),
                rx.button("Restore as draft", size="1", variant="outline",
                          on_click=S.restore_version(v["number"].to(int))),
                spacing="2")),
        )

    return rx.cond(
        S.versions.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Version", "Published by", "When", "Steps", "")])),
            rx.table.body(rx.foreach(S.versions, row)),
            width="100%", data_testid="versions",
        ),
        rx.text("Not published yet: Publish freezes the draft as version 1.",
                color_scheme="gray", size="2"),
    )


def _test_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Test run of the draft"),
            rx.dialog.description("Starts a real run of the saved draft (published or not) "
                                  "and opens its timeline.", size="2"),
            rx.form(
                rx.vstack(
                    rx.foreach(S.test_fields, lambda spec: field_block(
                        spec, error=S.test_errors.get(spec["name"].to(str), ""),
                        files_by_id=True)),
                    rx.cond(S.test_fields.length() == 0,
                            rx.text("This workflow has no input fields.", size="2",
                                    color_scheme="gray")),
                    error_text(S.test_error),
                    rx.hstack(
                        rx.dialog.close(rx.button("Cancel", type="button", variant="soft",
                                                  color_scheme="gray", on_click=S.close_test)),
                        rx.button(rx.cond(S.busy == "test", rx.spinner(size="1"),
                                          rx.icon("play", size=14)), "Start run",
                                  type="submit", data_testid="start-test-run"),
                        justify="end", width="100%", spacing="2",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=S.submit_test, no_validate=True,
            ),
            max_width="480px",
        ),
        open=S.test_open,
        on_open_change=lambda _open: S.close_test(),
    )


def builder_page() -> rx.Component:
    body = rx.vstack(
        _header(),
        _banners(),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger("Canvas", value="canvas", data_testid="tab-canvas"),
                rx.tabs.trigger("JSON", value="json", data_testid="tab-json"),
                rx.tabs.trigger(rx.hstack(rx.text("Versions"), rx.badge(S.versions.length(),
                                variant="soft", size="1"), spacing="1", align="center"),
                                value="versions", data_testid="tab-versions"),
            ),
            rx.tabs.content(_canvas_tab(), value="canvas", padding_top="12px"),
            rx.tabs.content(_json_tab(), value="json", padding_top="12px"),
            rx.tabs.content(_versions_tab(), value="versions", padding_top="12px"),
            value=S.tab, on_change=S.set_tab, width="100%",
        ),
        _test_dialog(),
        spacing="3", width="100%",
    )
    loading = loading_block("Loading the workflow…")
    return layout(
        for_this_address(S.shown_for, "workflow_id", rx.cond(
            S.load_error != "", error_text(S.load_error), rx.cond(S.loaded, body, loading)),
            loading),
        max_width="100%",
    )


def register(app: rx.App) -> None:
    app.add_page(builder_page, route=routes.WORKFLOW, title="Workflow builder · Flowdesk",
                 on_load=guarded(S.load))
