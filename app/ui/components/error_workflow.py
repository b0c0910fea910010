"""The builder's "When a run fails" control (the workflow's error workflow; for admins, the
workspace default)."""

from __future__ import annotations

import reflex as rx

from app.ui.components.common import error_text, notice_text
from app.ui.states.auth import AuthState
from app.ui.states.error_workflow import DEFAULT, ErrorWorkflowState

S = ErrorWorkflowState
_SELECT = {"padding": "4px", "width": "100%", "font-size": "13px"}


def _option(row: rx.Var) -> rx.Component:
    return rx.el.option(row["title"], value=row["id"])


def error_workflow_control() -> rx.Component:
    return rx.vstack(
        rx.text("When a run fails", weight="bold", size="2"),
        rx.text("Start this workflow with the failure (the run, the failed step, the error) "
                "as its input.", size="1", color_scheme="gray"),
        rx.el.select(
            rx.el.option(rx.cond(S.ew_default_title != "",
                                 "Workspace default: " + S.ew_default_title,
                                 "Nothing (no workspace default)"), value=DEFAULT),
            rx.foreach(S.ew_options, _option),
            value=S.ew_current, on_change=S.choose_error_workflow, disabled=~AuthState.can_build,
            id="error-workflow", style=_SELECT),
        rx.cond(AuthState.can_manage_members, rx.vstack(
            rx.text("Workspace default (every workflow without its own)", size="1",
                    color_scheme="gray"),
            rx.el.select(rx.el.option("None", value=""), rx.foreach(S.ew_options, _option),
                         value=S.ew_default, on_change=S.choose_default,
                         id="default-error-workflow", style=_SELECT),
            spacing="1", width="100%")),
        notice_text(S.ew_notice),
        error_text(S.ew_error),
        spacing="1", width="100%", on_mount=S.load_error_workflow,
        data_testid="error-workflow-control",
    )
