"""Sandboxed Jinja2 rendering of step templates and evaluation of branch conditions."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta
from jinja2.environment import Template, TemplateExpression
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Bounds on the two operators a template could use to burn CPU or memory
# (`10 ** 10 ** 9`, `'x' * 10 ** 9`); the sandbox already caps range() at MAX_RANGE.
MAX_EXPONENT = 1_000
MAX_REPEATED_LENGTH = 100_000
TEMPLATE_CACHE_SIZE = 1_024

# A string that is one `{{ expr }}` and nothing else keeps the expression's native type.
_SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|\{#).)*)\}\}\s*$", re.DOTALL)


class TemplateFailure(Exception):
    """A template or condition could not be compiled or rendered; the message says why."""


class _FlowdeskSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"**", "*"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right!r} is larger than {MAX_EXPONENT}")
            return operator.pow(left, right)
        _check_repetition(left, right)
        _check_repetition(right, left)
        return operator.mul(left, right)


def _check_repetition(sequence: Any, count: Any) -> None:
    if isinstance(sequence, str | list | tuple) and isinstance(count, int):
        if len(sequence) * count > MAX_REPEATED_LENGTH:
            raise SecurityError(f"repetition would exceed {MAX_REPEATED_LENGTH} items")


_ENV = _FlowdeskSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compiled_template(source: str) -> Template:
    return _ENV.from_string(source)


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compiled_expression(source: str) -> TemplateExpression:
    # undefined_to_none=False: a missing name must fail loudly, not become None.
    return _ENV.compile_expression(source, undefined_to_none=False)


def _failure(exc: Exception, source: str, what: str = "template") -> TemplateFailure:
    if isinstance(exc, SecurityError):
        return TemplateFailure(f"unsafe {what} {source!r} refused: {exc}")
    if isinstance(exc, UndefinedError):
        return TemplateFailure(f"undefined name in {what} {source!r}: {exc.message}")
    if isinstance(exc, TemplateSyntaxError):
        return TemplateFailure(f"syntax error in {what} {source!r}: {_syntax_message(exc)}")
    return TemplateFailure(f"{type(exc).__name__} in {what} {source!r}: {exc}")


def _syntax_message(exc: TemplateSyntaxError) -> str:
    # Line numbers only help in multi-line templates.
    if exc.lineno and exc.lineno > 1:
        return f"{exc.message} (line {exc.lineno})"
    return str(exc.message)


def _reject_undefined(value: Any) -> Any:
    """Fail on an Undefined hidden in a native result (`[foo]`), before it leaks into outputs."""
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined raises the UndefinedError (or SecurityError) it carries
    elif isinstance(value, dict):
        for item in value.values():
            _reject_undefined(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_undefined(item)
    return value


def render_string(source: str, context: Mapping[str, Any]) -> Any:
    """Render one template string; a lone `{{ expr }}` returns the expression's native value."""
    single = _SINGLE_EXPRESSION.match(source)
    try:
        if single:
            return _reject_undefined(_compiled_expression(single.group("expr"))(dict(context)))
        return _compiled_template(source).render(dict(context))
    except Exception as exc:  # user-written code: every failure must become a readable message
        raise _failure(exc, source) from exc


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every string inside dicts and lists; dict keys and non-strings pass through."""
    if isinstance(value, str):
        return render_string(value, context) if _looks_templated(value) else value
    if isinstance(value, dict):
        return {key: render_value(item, context) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [render_value(item, context) for item in value]
    return value


def _looks_templated(text: str) -> bool:
    # Plain strings skip the compiler (and its cache), the common case in step configs.
    return "{{" in text or "{%" in text or "{#" in text


def evaluate_condition(expression: str, context: Mapping[str, Any]) -> bool:
    """Evaluate a bare Jinja2 expression (`result == true`) to a bool."""
    try:
        return bool(_compiled_expression(expression)(dict(context)))
    except Exception as exc:  # user-written code: every failure must become a readable message
        raise _failure(exc, expression, "condition") from exc


def template_problem(source: str) -> str | None:
    """Return a syntax problem of a template string, or None when it compiles."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return f"template syntax error: {_syntax_message(exc)}"
    single = _SINGLE_EXPRESSION.match(source)
    if single:
        # The native path compiles the inner expression on its own, so check it the same way.
        return _expression_problem(single.group("expr"), "template syntax error")
    return None


def condition_problem(expression: str) -> str | None:
    """Return a syntax problem of a condition expression, or None when it compiles."""
    if not expression.strip():
        return "condition is empty"
    if "{{" in expression or "{%" in expression:
        return 'a condition is a bare expression: write "x == 1", not "{{ x == 1 }}"'
    return _expression_problem(expression, "condition syntax error")


def _expression_problem(expression: str, prefix: str) -> str | None:
    try:
        _compiled_expression(expression)
    except TemplateSyntaxError as exc:
        return f"{prefix}: {_syntax_message(exc)}"
    return None


def referenced_roots(source: str) -> set[str]:
    """Top-level names a template reads (`input`, `steps`, …); empty when it does not parse."""
    try:
        return set(meta.find_undeclared_variables(_ENV.parse(source)))
    except TemplateSyntaxError:
        return set()
