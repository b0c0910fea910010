"""Steps that wait: `approval` (a person decides), `signal` (an external ready), `delay`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from app.clock import as_utc
from app.engine.approval_policy import Policy
from app.engine.definition import next_of, parse_duration
from app.engine.steps.base import (
    Complete,
    Fail,
    Outcome,
    Sleep,
    StepContext,
    WaitForApproval,
    WaitForSignal,
)
from app.engine.templating import TemplateFailure, render_value


def execute_approval(step: Any, ctx: StepContext) -> Outcome:
    try:
        instructions = str(render_value(step.instructions or "", ctx.template_context()))
    except TemplateFailure as exc:
        return Fail(str(exc), retryable=False)
    due_at = ctx.now + timedelta(seconds=parse_duration(step.due_in)) if step.due_in else None
    return WaitForApproval(assignees=list(step.assignees), instructions=instructions,
                           due_at=due_at, policy=Policy.of_step(step).to_json())


def execute_signal(step: Any, ctx: StepContext) -> Outcome:
    try:
        instructions = str(render_value(getattr(step, "instructions", "") or "",
                                        ctx.template_context()))
    except TemplateFailure as exc:
        return Fail(str(exc), retryable=False)
    return WaitForSignal(instructions=instructions)


def _delay_until(step: Any, ctx: StepContext) -> datetime:
    if step.duration:
        return ctx.now + timedelta(seconds=parse_duration(step.duration))
    value = render_value(step.until, ctx.template_context())
    if isinstance(value, datetime):
        return as_utc(value)
    return as_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def execute_delay(step: Any, ctx: StepContext) -> Outcome:
    recorded = ctx.step_input.get("until")
    if recorded is None:
        try:
            until = _delay_until(step, ctx)
        except (TemplateFailure, ValueError) as exc:
            return Fail(f"delay: {exc}", retryable=False)
        if until > ctx.now:
            return Sleep(until=until)
        recorded = until.isoformat()
    until = as_utc(datetime.fromisoformat(str(recorded)))
    if until > ctx.now:
        return Sleep(until=until)
    return Complete(result={"waited_until": until.isoformat()},
                    next_step=next_of(step),
                    recorded_input={"until": until.isoformat()})
