"""Run timeline: every step in order with status, times, input/output, error and actions."""

from __future__ import annotations

import reflex as rx

from app.services.timeline import StepView
from app.ui import routes
from app.ui.components.common import (
    error_text,
    files_list,
    json_block,
    loading_block,
    page_header,
    status_badge,
    status_icon,
    time_text,
)
from app.ui.components.layout import layout
from app.ui.components.rerun_dialog import origin_and_related, rerun_button
from app.ui.states.auth import AuthState, guarded
from app.ui.states.run import RunState


def _fact(label: str, value: rx.Component | rx.Var | str) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"),
                     value if isinstance(value, rx.Component) else rx.text(value, size="2"),
                     spacing="0", min_width="120px")


def _run_facts() -> rx.Component:
    run = RunState.run
    return rx.card(
        rx.flex(
            _fact("Status", rx.box(status_badge(run.status), data_testid="run-status")),
            _fact("Workflow", rx.text(run.workflow_title, " v", run.version_number, size="2")),
            _fact("Trigger", run.trigger),
            _fact("Started by", rx.cond(run.created_by != "", run.created_by, "—")),
            _fact("Created", time_text(run.created_at, font_size="14px")),
            _fact("Finished", time_text(run.completed_at, font_size="14px")),
            _fact("Duration", run.duration),
            spacing="4",
            wrap="wrap",
        ),
        width="100%",
    )


def _step_times(step: StepView) -> rx.Component:
    return rx.flex(
        rx.text("Start ", time_text(step.started_at), size="1", color_scheme="gray"),
        rx.text("End ", time_text(step.finished_at), size="1", color_scheme="gray"),
        rx.cond(step.duration != "",
                rx.text(rx.cond(step.finished_at != "", "Took ", "Elapsed "), step.duration,
                        size="1", color_scheme="gray")),
        rx.text("Attempt ", step.attempt, "/", step.max_attempts, size="1", color_scheme="gray",
                data_testid="step-attempt"),
        spacing="3",
        wrap="wrap",
    )


def _vote(vote: rx.Var) -> rx.Component:
    return rx.flex(
        rx.icon(rx.cond(vote["decision"] == "approved", "check", "x"), size=14,
                color=rx.cond(vote["decision"] == "approved", "var(--green-10)",
                              "var(--red-10)")),
        rx.text(vote["by"], size="1", weight="medium"),
        rx.text(vote["decision"], " via ", vote["via"], size="1", color_scheme="gray"),
        time_text(vote["at"], font_size="12px"),
        rx.cond(vote["comment"] != "",
                rx.text("“", vote["comment"], "”", size="1", font_style="italic")),
        rx.cond(vote["fields"] != "", rx.code(vote["fields"], size="1")),
        spacing="2", wrap="wrap", align="center", margin_top="4px",
        data_testid="timeline-vote",
    )


def _approval(step: StepView) -> rx.Component:
    return rx.cond(
        step.approval_status != "",
        rx.box(
            rx.cond(step.approval_instructions != "",
                    rx.text(step.approval_instructions, size="2")),
            rx.cond(
                step.approval_status == "pending",
                rx.text("Waiting for ", rx.code(step.approval_assignees), " · ",
                        rx.link("open the inbox", href=routes.APPROVALS), size="2"),
                rx.flex(
                    status_badge(step.approval_status),
                    rx.cond(step.approval_by != "",
                            rx.text("by ", step.approval_by, size="2", weight="medium")),
                    rx.text("at ", time_text(step.approval_at), size="2"),
                    rx.cond(step.approval_comment != "",
                            rx.text("“", step.approval_comment, "”", size="2",
                                    font_style="italic")),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                    data_testid="approval-decision",
                ),
            ),
            rx.cond(step.approval_progress != "",
                    rx.badge(step.approval_progress, color_scheme="blue", size="1",
                             data_testid="timeline-approval-progress")),
            rx.foreach(step.approval_votes, _vote),
            padding="8px",
            border_radius="6px",
            background="var(--amber-a2)",
            width="100%",
        ),
    )


def _step_actions(step: StepView) -> rx.Component:
    retrying = RunState.busy == "retry:" + step.id
    return rx.cond(
        step.can_retry & AuthState.can_operate,
        rx.flex(
            rx.button(rx.cond(retrying, rx.spinner(size="1"), rx.icon("rotate-ccw", size=14)),
                      "Retry step", size="2", disabled=RunState.busy != "",
                      on_click=RunState.retry_step(step.id), data_testid="retry-step"),
            rx.button(rx.icon("skip-forward", size=14), "Skip step", size="2", variant="soft",
                      disabled=RunState.busy != "", on_click=RunState.skip_step(step.id),
                      data_testid="skip-step"),
            spacing="2",
            wrap="wrap",
        ),
    )


def _details(step: StepView) -> rx.Component:
    return rx.cond(
        (step.input != "") | (step.output != ""),
        rx.el.details(
            rx.el.summary(rx.text("Input and output", as_="span", size="1",
                                  color_scheme="gray"), style={"cursor": "pointer"}),
            rx.vstack(json_block(step.input, "Input"), json_block(step.output, "Output"),
                      spacing="2", width="100%", padding_top="6px"),
            width="100%",
            open=step.status == "failed",
        ),
    )


def step_card(step: StepView) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            status_icon(step.status),
            rx.box(width="2px", flex_grow="1", background="var(--gray-a5)", min_height="12px"),
            align="center",
            spacing="1",
            padding_top="14px",
        ),
        rx.card(
            rx.vstack(
                rx.flex(
                    rx.text("#", step.seq + 1, size="1", color_scheme="gray"),
                    rx.text(step.step_key, weight="bold", size="3"),
                    rx.badge(step.kind, variant="surface", size="1"),
                    rx.spacer(),
                    status_badge(step.status),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                    width="100%",
                ),
                _step_times(step),
                _approval(step),
                rx.cond(step.error != "",
                        rx.callout(step.error, icon="circle-x", color_scheme="red", size="1",
                                   width="100%", word_break="break-word")),
                _details(step),
                _step_actions(step),
                error_text(RunState.step_errors.get(step.id, "")),
                spacing="2",
                width="100%",
                min_width="0",
            ),
            width="100%",
            min_width="0",
        ),
        align="stretch",
        width="100%",
        spacing="2",
        data_testid="step-card",
        data_step_key=step.step_key,
        data_status=step.status,
    )


def _cancel_button() -> rx.Component:
    return rx.cond(
        AuthState.can_operate & ~RunState.run.finished & (RunState.run.id != ""),
        rx.alert_dialog.root(
            rx.alert_dialog.trigger(
                rx.button(rx.cond(RunState.busy == "cancel", rx.spinner(size="2"),
                                  rx.icon("circle-stop", size=16)),
                          "Cancel run", color_scheme="red", variant="soft",
                          disabled=RunState.busy != "", data_testid="cancel-run")),
            rx.alert_dialog.content(
                rx.alert_dialog.title("Cancel this run?"),
                rx.alert_dialog.description(
                    "The run stops between steps and its waiting approvals are cancelled. "
                    "This cannot be undone."),
                rx.flex(
                    rx.alert_dialog.cancel(rx.button("Keep running", variant="soft",
                                                     color_scheme="gray")),
                    rx.alert_dialog.action(rx.button("Cancel run", color_scheme="red",
                                                     on_click=RunState.cancel_run,
                                                     data_testid="confirm-cancel")),
                    spacing="2",
                    justify="end",
                    margin_top="16px",
                ),
            ),
        ),
    )


def _content() -> rx.Component:
    run = RunState.run
    return rx.vstack(
        page_header(run.workflow_title, rerun_button(), _cancel_button(),
                    rx.link(rx.button(rx.icon("list", size=16), "All runs", variant="soft",
                                      color_scheme="gray"), href=routes.RUNS),
                    subtitle=run.id),
        error_text(RunState.action_error),
        origin_and_related(),
        _run_facts(),
        rx.cond(run.error != "", rx.callout(run.error, icon="triangle-alert",
                                            color_scheme="red", width="100%")),
        rx.cond(run.input != "", rx.card(rx.vstack(
            files_list(run.files), json_block(run.input, "Run input"),
            spacing="3", width="100%"), width="100%")),
        rx.heading("Timeline", size="4", margin_top="8px"),
        rx.cond(run.steps.length() > 0,
                rx.vstack(rx.foreach(run.steps, step_card), spacing="2", width="100%"),
                rx.text("No step has started yet.", color_scheme="gray")),
        rx.cond(run.outputs != "", rx.el.details(
            rx.el.summary("Outputs by step", style={"cursor": "pointer"}),
            json_block(run.outputs, ""), width="100%")),
        spacing="3",
        width="100%",
    )


def run_page() -> rx.Component:
    return layout(
        rx.cond(
            RunState.load_error != "",
            rx.vstack(page_header("Run not found"), error_text(RunState.load_error),
                      rx.link("Back to runs", href=routes.RUNS)),
            rx.cond(RunState.run.id != "", _content(), loading_block()),
        ),
    )


def register(app: rx.App) -> None:
    app.add_page(run_page, route=routes.RUN, title="Run · Flowdesk",
                 on_load=guarded(RunState.open_page))
