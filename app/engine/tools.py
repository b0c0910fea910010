"""The tool registry: named Python functions a `tool` step calls, with the built-ins.

Add tools with `@register("name")`; modules listed in the TOOL_MODULES setting are imported
at start so a deployment can bring its own.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("app.tools")

MAX_SLEEP_S = 300.0


class ToolError(Exception):
    """A tool's own failure; `retryable` says whether another attempt could succeed."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class ToolCall:
    run_id: str
    step_key: str
    attempt: int
    idempotency_key: str
    input: Mapping[str, Any]


ToolFunction = Callable[[dict[str, Any], ToolCall], Any]


@dataclass(frozen=True)
class Tool:
    name: str
    function: ToolFunction
    description: str
    # An inline tool is instant and cannot block (set, log): it runs on the step's own thread,
    # without the timeout's hand-off to the tool pool.
    inline: bool = False


TOOLS: dict[str, Tool] = {}


def register(name: str, *, description: str = "",
             inline: bool = False) -> Callable[[ToolFunction], ToolFunction]:
    def decorate(function: ToolFunction) -> ToolFunction:
        TOOLS[name] = Tool(name=name, function=function, description=description, inline=inline)
        return function

    return decorate


def known_tools() -> set[str]:
    return set(TOOLS)


def load_tool_modules(modules: Iterable[str]) -> None:
    for module in modules:
        importlib.import_module(module)


@register("set", description="Return its arguments as the step's output.", inline=True)
def _set(args: dict[str, Any], _call: ToolCall) -> Any:
    return args


@register("log", description="Write `message` to the server log and return it.", inline=True)
def _log(args: dict[str, Any], call: ToolCall) -> Any:
    message = str(args.get("message", ""))
    log.info("run %s step %s: %s", call.run_id, call.step_key, message)
    return {"message": message}


@register("sleep", description="Wait `seconds` (at most 300) and return.")
def _sleep(args: dict[str, Any], _call: ToolCall) -> Any:
    try:
        seconds = float(args.get("seconds", 0))
    except (TypeError, ValueError) as exc:
        raise ToolError("sleep: 'seconds' must be a number", retryable=False) from exc
    if not 0 <= seconds <= MAX_SLEEP_S:
        raise ToolError(f"sleep: 'seconds' must be between 0 and {MAX_SLEEP_S:g}", retryable=False)
    time.sleep(seconds)
    return {"slept_s": seconds}


@register("fail", description="Fail with `message` (for testing retries and FLAGGED runs).",
          inline=True)
def _fail(args: dict[str, Any], _call: ToolCall) -> Any:
    raise ToolError(str(args.get("message", "failed on purpose")),
                    retryable=bool(args.get("retryable", True)))


@register("echo", description="Return the arguments and the run's input.", inline=True)
def _echo(args: dict[str, Any], call: ToolCall) -> Any:
    return {"args": args, "input": dict(call.input)}


# Seed 004's example tools (demo stand-ins), registered wherever tools are: see demo_tools.
from app.engine import demo_tools  # noqa: E402, F401
