"""Step kinds: each kind's `execute(step, ctx) -> Outcome`, looked up by the step's `kind`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.engine.steps import http, tool
from app.engine.steps.base import Outcome, StepContext
from app.engine.steps.flow import execute_branch, execute_input, execute_subworkflow
from app.engine.steps.waiting import execute_approval, execute_delay, execute_signal

KINDS: dict[str, Callable[[Any, StepContext], Outcome]] = {
    "input": execute_input,
    "http": http.execute,
    "tool": tool.execute,
    "branch": execute_branch,
    "approval": execute_approval,
    "signal": execute_signal,
    "delay": execute_delay,
    "subworkflow": execute_subworkflow,
}


def execute(step: Any, ctx: StepContext) -> Outcome:
    return KINDS[step.kind](step, ctx)
