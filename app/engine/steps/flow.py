"""Steps that route: `input` (the trigger's fields), `branch` (first matching condition wins)
and `subworkflow` (run another published workflow and wait for it)."""

from __future__ import annotations

from typing import Any

from app.engine.definition import next_of
from app.engine.steps.base import Complete, Fail, Outcome, StepContext, WaitForChild
from app.engine.templating import TemplateFailure, evaluate_condition, render_value


def execute_input(step: Any, ctx: StepContext) -> Outcome:
    # The trigger already validated the input against these fields.
    names = [field.name for field in step.fields]
    result = {name: ctx.run_input[name] for name in names if name in ctx.run_input}
    return Complete(result=result, next_step=next_of(step))


def execute_branch(step: Any, ctx: StepContext) -> Outcome:
    context = ctx.template_context()
    for index, branch in enumerate(step.branches):
        try:
            matched = evaluate_condition(branch.if_, context)
        except TemplateFailure as exc:
            return Fail(f"branch {index + 1}: {exc}", retryable=False)
        if matched:
            return Complete(result={"matched": index, "condition": branch.if_,
                                    "next": branch.then}, next_step=branch.then)
    return Complete(result={"matched": None, "next": step.else_}, next_step=step.else_)


def execute_subworkflow(step: Any, ctx: StepContext) -> Outcome:
    try:
        child_input = render_value(dict(step.input), ctx.template_context())
    except TemplateFailure as exc:
        return Fail(str(exc), retryable=False)
    return WaitForChild(workflow_id=step.workflow_id, input=child_input)
