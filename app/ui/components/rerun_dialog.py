"""The run page's Re-run button and dialog, and the links between a run and the runs
started from it (re-runs, error workflows)."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import error_text, status_badge
from app.ui.states.auth import AuthState
from app.ui.states.rerun import RerunState

ORIGIN = {"rerun": "Re-run of", "error": "Error workflow for"}
STARTED = {"rerun": "re-run", "error": "error workflow"}


def _again(step: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.code(step["key"]), rx.text(step["kind"], size="1", color_scheme="gray"),
        rx.cond(step["side_effect"] != "",
                rx.badge(rx.icon("triangle-alert", size=12), step["side_effect"],
                         color_scheme="orange", variant="soft", size="1")),
        align="center", spacing="2", data_testid="rerun-step",
    )


def _preview() -> rx.Component:
    return rx.vstack(
        rx.text("Runs again (every step reachable from it in version ", RerunState.rerun_number,
                "):", size="2", weight="medium"),
        rx.vstack(rx.foreach(RerunState.rerun_steps, _again), spacing="1"),
        rx.cond(RerunState.rerun_side_effects.length() > 0,
                rx.callout("Steps marked in orange act outside Flowdesk (they call other "
                           "systems again): check they are safe to repeat.",
                           icon="triangle-alert", color_scheme="orange", size="1")),
        rx.text("Kept from this run (not run again): ",
                rx.cond(RerunState.rerun_kept.length() > 0,
                        rx.text(RerunState.rerun_kept.join(", "), as_="span"),
                        rx.text("nothing", as_="span")),
                size="2", color_scheme="gray"),
        spacing="2", width="100%",
    )


def rerun_button() -> rx.Component:
    run = RerunState.run
    return rx.cond(
        AuthState.can_operate & run.can_rerun,
        rx.dialog.root(
            rx.button(rx.icon("rotate-ccw", size=16), "Re-run", variant="soft",
                      on_click=RerunState.open_rerun, data_testid="rerun-button"),
            rx.dialog.content(
                rx.dialog.title("Re-run from a step"),
                rx.dialog.description(
                    "A new run starts at the step you choose, with this run's input and the "
                    "outputs of the steps before it; this run stays as it is.", size="2"),
                rx.vstack(
                    rx.text("Start from", size="2", weight="medium"),
                    rx.el.select(
                        rx.foreach(run.rerun_choices,
                                   lambda key: rx.el.option(key, value=key)),
                        value=RerunState.rerun_from, on_change=RerunState.choose_from,
                        id="rerun-from", style={"padding": "6px", "width": "100%"}),
                    rx.text("Version", size="2", weight="medium"),
                    rx.radio_group.root(
                        rx.hstack(
                            rx.hstack(rx.radio_group.item(value="pinned", id="rerun-pinned"),
                                      rx.el.label(rx.text("This run's (v", run.version_number,
                                                          ")", size="2"),
                                                  html_for="rerun-pinned"), spacing="1"),
                            rx.hstack(rx.radio_group.item(value="latest", id="rerun-latest"),
                                      rx.el.label(rx.text("Latest published", size="2"),
                                                  html_for="rerun-latest"), spacing="1"),
                            spacing="4"),
                        value=RerunState.rerun_version, on_change=RerunState.choose_version),
                    rx.cond(RerunState.rerun_error == "", _preview(),
                            error_text(RerunState.rerun_error)),
                    rx.flex(
                        rx.dialog.close(rx.button("Cancel", variant="soft",
                                                  color_scheme="gray")),
                        rx.button(rx.cond(RerunState.rerun_busy, rx.spinner(size="2"),
                                          rx.icon("play", size=16)),
                                  "Start re-run", on_click=RerunState.confirm_rerun,
                                  disabled=RerunState.rerun_busy
                                  | (RerunState.rerun_error != ""),
                                  data_testid="confirm-rerun"),
                        spacing="2", justify="end", width="100%"),
                    spacing="3", width="100%", margin_top="12px"),
                max_width="520px"),
            open=RerunState.rerun_open, on_open_change=RerunState.set_rerun_open,
        ),
    )


def _related(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.link(row["id"], href=f"{routes.RUNS}/" + row["id"]),
        rx.text(rx.match(row["trigger"], *STARTED.items(), row["trigger"]), " · ",
                row["workflow_title"], size="1", color_scheme="gray"),
        status_badge(row["status"]),
        align="center", spacing="2", data_testid="related-run",
    )


def origin_and_related() -> rx.Component:
    run = RerunState.run
    return rx.fragment(
        rx.cond(run.source_run_id != "", rx.callout(
            rx.text(rx.match(run.trigger, *ORIGIN.items(), "Started from"), " ",
                    rx.link(run.source_run_id,
                            href=f"{routes.RUNS}/" + run.source_run_id)),
            icon="git-branch", color_scheme="blue", size="1", width="100%",
            data_testid="run-origin")),
        rx.cond(run.related.length() > 0, rx.card(
            rx.text("Started from this run", size="2", weight="medium"),
            rx.vstack(rx.foreach(run.related, _related), spacing="1", margin_top="6px"),
            width="100%")),
    )
