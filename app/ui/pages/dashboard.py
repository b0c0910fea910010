"""Dashboard: runs by status, a chart of runs per day, flagged runs, oldest and overdue
approvals."""

from __future__ import annotations

import reflex as rx

from app.models import RunStatus
from app.ui import routes
from app.ui.components.common import (
    STATUS_COLORS,
    STATUS_ICONS,
    empty_state,
    loading_block,
    page_header,
    relative_time,
)
from app.ui.components.layout import layout
from app.ui.states.auth import AuthState, guarded
from app.ui.states.dashboard import DashboardState


def _count_card(item: rx.Var) -> rx.Component:
    status = item["status"].to(str)
    return rx.link(
        rx.card(
            rx.hstack(
                rx.match(status, *[(s, rx.icon(STATUS_ICONS[s], size=20,
                                               color=f"var(--{STATUS_COLORS[s]}-9)"))
                                   for s in RunStatus.ALL], rx.icon("circle")),
                rx.vstack(
                    rx.text(status, size="1", color_scheme="gray"),
                    rx.heading(item["count"].to(int), size="6"),
                    spacing="0",
                ),
                align="center",
                spacing="3",
            ),
            width="100%",
        ),
        href=routes.RUNS + "?status=" + status,
        underline="none",
        flex="1 1 150px",
        data_testid="count-" + status,
    )


def _chart() -> rx.Component:
    return rx.card(
        rx.text("Runs per day (last 14 days, UTC)", weight="medium", size="2"),
        rx.box(
            rx.recharts.bar_chart(
                rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
                rx.recharts.x_axis(data_key="day", font_size=11),
                rx.recharts.y_axis(allow_decimals=False, font_size=11, width=32),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                *[rx.recharts.bar(data_key=s, stack_id="runs", fill=f"var(--{STATUS_COLORS[s]}-9)",
                                  name=s, is_animation_active=False) for s in RunStatus.ALL],
                data=DashboardState.per_day,
                width="100%",
                height=280,
            ),
            width="100%",
            height="290px",
            margin_top="8px",
        ),
        width="100%",
        data_testid="runs-chart",
    )


def _flagged_row(run: rx.Var) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(rx.icon("flag", size=14, color="var(--red-9)"),
                      rx.text(run["workflow_title"], weight="medium", size="2"),
                      rx.text("at ", run["current_step"], size="1", color_scheme="gray"),
                      align="center", wrap="wrap"),
            rx.text(run["error"], size="1", color_scheme="red", truncate=True, width="100%"),
            spacing="1",
            width="100%",
            padding="8px",
            border_radius="6px",
            _hover={"background": "var(--gray-a3)"},
        ),
        href=routes.RUNS + "/" + run["id"].to(str),
        underline="none",
        color="var(--gray-12)",
        width="100%",
    )


def _approval_row(item: rx.Var) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(rx.icon("hourglass", size=14, color="var(--amber-9)"),
                      rx.text(item["workflow_title"], weight="medium", size="2"),
                      rx.text("waiting ", relative_time(item["created_at"].to(str)), size="1",
                              color_scheme="gray"),
                      align="center", wrap="wrap"),
            rx.text(item["instructions"], size="1", color_scheme="gray", truncate=True,
                    width="100%"),
            spacing="1",
            width="100%",
            padding="8px",
            border_radius="6px",
            _hover={"background": "var(--gray-a3)"},
        ),
        href=routes.RUNS + "/" + item["run_id"].to(str),
        underline="none",
        color="var(--gray-12)",
        width="100%",
    )


def _overdue_row(item: rx.Var) -> rx.Component:
    return rx.link(
        rx.vstack(
            rx.hstack(rx.icon("alarm-clock", size=14, color="var(--red-9)"),
                      rx.text(item["workflow_title"], weight="medium", size="2"),
                      rx.badge(item["step_key"].to(str), variant="surface", size="1"),
                      rx.text("due ", relative_time(item["due_at"].to(str)), size="1",
                              color_scheme="red"),
                      align="center", wrap="wrap"),
            rx.text(item["instructions"], size="1", color_scheme="gray", truncate=True,
                    width="100%"),
            spacing="1",
            width="100%",
            padding="8px",
            border_radius="6px",
            _hover={"background": "var(--gray-a3)"},
        ),
        href=routes.RUNS + "/" + item["run_id"].to(str),
        underline="none",
        color="var(--gray-12)",
        width="100%",
        data_testid="overdue-row",
    )


def _list_card(title: str, items: rx.Var, row, empty: str, more_href: str,
               test_id: str, count: rx.Var | None = None) -> rx.Component:
    return rx.card(
        rx.hstack(rx.text(title, weight="medium", size="2"),
                  rx.cond(count > 0, rx.badge(count, color_scheme="red", size="1",
                                              data_testid="overdue-count"))
                  if count is not None else rx.fragment(),
                  rx.spacer(),
                  rx.link("See all", href=more_href, size="1"),
                  align="center"),
        rx.cond(items.length() > 0,
                rx.vstack(rx.foreach(items, row), spacing="1", width="100%", margin_top="8px"),
                rx.text(empty, size="2", color_scheme="gray", margin_top="8px")),
        flex="1 1 320px",
        min_width="0",
        data_testid=test_id,
    )


def _content() -> rx.Component:
    return rx.vstack(
        rx.flex(rx.foreach(DashboardState.counts, _count_card), spacing="3", wrap="wrap",
                width="100%"),
        rx.cond(
            DashboardState.total_runs > 0,
            _chart(),
            empty_state("chart-no-axes-column", "No runs yet",
                        "Publish a workflow and start it (from its page, a form, a schedule or "
                        "the API); the chart fills as runs arrive.",
                        rx.link("Go to workflows", href=routes.WORKFLOWS)),
        ),
        rx.flex(
            _list_card("Latest flagged runs", DashboardState.flagged, _flagged_row,
                       "No flagged runs: every failed step was handled.",
                       routes.RUNS + "?status=FLAGGED", "flagged-list"),
            _list_card("Overdue approvals", DashboardState.overdue_approvals, _overdue_row,
                       "Nothing is overdue.", routes.APPROVALS, "overdue-approvals",
                       count=DashboardState.overdue_count),
            _list_card("Oldest pending approvals", DashboardState.oldest_approvals,
                       _approval_row, "No approval is waiting.", routes.APPROVALS,
                       "oldest-approvals"),
            spacing="3",
            wrap="wrap",
            width="100%",
        ),
        spacing="4",
        width="100%",
    )


def dashboard_page() -> rx.Component:
    return layout(
        page_header("Dashboard", subtitle=AuthState.workspace_name),
        rx.cond(DashboardState.loaded, _content(), loading_block()),
    )


def register(app: rx.App) -> None:
    app.add_page(dashboard_page, route=routes.DASHBOARD, title="Dashboard · Flowdesk",
                 on_load=guarded(DashboardState.open_page))
