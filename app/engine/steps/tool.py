"""The `tool` step: call a registered Python function with templated arguments."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from app.engine.definition import next_of
from app.engine.steps.base import Complete, Fail, Outcome, StepContext
from app.engine.templating import TemplateFailure, render_value
from app.engine.tools import TOOLS, ToolCall, ToolError

# Tools run on their own threads so a step's timeout can be enforced without killing a thread:
# on timeout the step fails and the late result is dropped.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="tool")


def execute(step: Any, ctx: StepContext) -> Outcome:
    tool = TOOLS.get(step.tool)
    if tool is None:
        return Fail(f"unknown tool '{step.tool}'", retryable=False)
    try:
        args = render_value(dict(step.args), ctx.template_context())
    except TemplateFailure as exc:
        return Fail(str(exc), retryable=False)
    call = ToolCall(
        run_id=ctx.run_id,
        step_key=ctx.step_key,
        attempt=ctx.attempt,
        idempotency_key=ctx.idempotency_key,
        input=ctx.run_input,
    )
    recorded = {"tool": step.tool, "args": args}
    try:
        if tool.inline:
            result = tool.function(args, call)
        else:
            result = _POOL.submit(tool.function, args, call).result(timeout=step.timeout_s)
    except concurrent.futures.TimeoutError:
        return Fail(f"tool '{step.tool}' timed out after {step.timeout_s:g} s",
                    recorded_input=recorded)
    except ToolError as exc:
        return Fail(f"{step.tool}: {exc}", retryable=exc.retryable, recorded_input=recorded)
    except Exception as exc:  # a tool's bug fails its step, never the executor
        return Fail(f"tool '{step.tool}' raised {type(exc).__name__}: {exc}",
                    recorded_input=recorded)
    return Complete(result=result, next_step=next_of(step),
                    recorded_input=recorded)
