"""Sandboxed templating and conditions: native rendering, failures, sandbox escapes."""

from __future__ import annotations

import pytest

from app.engine import templating
from app.engine.templating import (
    TemplateFailure,
    condition_problem,
    evaluate_condition,
    referenced_roots,
    render_value,
    template_problem,
)


@pytest.fixture
def context() -> dict:
    return {
        "input": {"Full Name": "Ada Lovelace", "Email": "ada@example.com", "amount": 150},
        "steps": {"manager": {"decision": "approved", "by": "bob@example.com"}},
        "result": True,
        "run": {"id": "run_1"},
    }


def test_plain_string_passes_through_unchanged(context: dict) -> None:
    assert render_value("no placeholders here", context) == "no placeholders here"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ input.amount }}", 150),
        ("{{ input.amount > 100 }}", True),
        ("{{ none }}", None),
        ("{{ [1, 2] }}", [1, 2]),
        ("{{ steps.manager }}", {"decision": "approved", "by": "bob@example.com"}),
    ],
)
def test_lone_expression_returns_its_native_value(context: dict, template: str, expected) -> None:
    assert render_value(template, context) == expected


def test_lone_expression_allows_surrounding_whitespace(context: dict) -> None:
    assert render_value("  {{ input.amount }}\n", context) == 150


def test_text_around_an_expression_renders_a_string(context: dict) -> None:
    assert render_value("Amount: {{ input.amount }}", context) == "Amount: 150"


def test_two_expressions_render_a_string(context: dict) -> None:
    assert render_value("{{ input.amount }}{{ input.amount }}", context) == "150150"


def test_strings_inside_dicts_and_lists_are_rendered_but_keys_are_not(context: dict) -> None:
    value = {"{{ key }}": ["{{ input.Email }}", {"n": "{{ input.amount }}"}], "flag": True}
    assert render_value(value, context) == {
        "{{ key }}": ["ada@example.com", {"n": 150}],
        "flag": True,
    }


@pytest.mark.parametrize("value", [42, 4.5, True, None])
def test_non_string_values_pass_through(context: dict, value) -> None:
    assert render_value(value, context) is value


def test_dict_values_are_reachable_by_attribute(context: dict) -> None:
    assert render_value("{{ steps.manager.decision }}", context) == "approved"


def test_dict_values_are_reachable_by_subscript(context: dict) -> None:
    assert render_value("Hi {{ input['Full Name'] }}", context) == "Hi Ada Lovelace"


def test_seed_style_placeholder_without_spaces_renders(context: dict) -> None:
    assert render_value("{{input.Email}}", context) == "ada@example.com"


def test_html_is_not_escaped(context: dict) -> None:
    assert render_value("<b>{{ '<i>' }}</b>", context) == "<b><i></b>"


def test_undefined_name_fails_naming_the_name_and_template(context: dict) -> None:
    with pytest.raises(TemplateFailure, match=r"'foo' is undefined.*|.*\{\{ foo \}\}") as info:
        render_value("{{ foo }}", context)
    assert "'foo' is undefined" in str(info.value)
    assert "{{ foo }}" in str(info.value)


def test_undefined_name_in_mixed_text_fails(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="undefined"):
        render_value("Hello {{ nobody }}", context)


def test_missing_key_fails(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="no attribute 'missing'"):
        render_value("{{ input.missing }}", context)


def test_undefined_hidden_in_a_native_list_fails(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="undefined"):
        render_value("{{ [input.amount, ghost] }}", context)


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__ }}",
        "{{ input.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ ''|attr('__class__') }}",
        "x {{ input.__class__.__subclasses__() }}",
    ],
)
def test_sandbox_escape_is_refused(context: dict, template: str) -> None:
    with pytest.raises(TemplateFailure, match="unsafe"):
        render_value(template, context)


def test_templates_cannot_mutate_the_context(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="unsafe"):
        render_value("{{ input.update({'Email': 'evil@example.com'}) }}", context)
    assert context["input"]["Email"] == "ada@example.com"


def test_huge_range_is_refused(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="MAX_RANGE"):
        render_value("{% for x in range(10**9) %}{{ x }}{% endfor %}", context)


def test_huge_power_is_refused(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="exponent"):
        render_value("{{ 10 ** 10000000 }}", context)


def test_huge_repetition_is_refused(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="repetition"):
        render_value("{{ 'x' * 1000000000 }}", context)


def test_small_power_and_repetition_still_work(context: dict) -> None:
    assert render_value("{{ 2 ** 10 }} {{ 'ab' * 2 }}", context) == "1024 abab"


@pytest.mark.parametrize("template", ["{{ 1 / 0 }}", "{{ 'a' + 1 }}", "{{ input.amount() }}"])
def test_runtime_error_becomes_template_failure(context: dict, template: str) -> None:
    with pytest.raises(TemplateFailure, match="in template"):
        render_value(template, context)


def test_syntax_error_at_render_becomes_template_failure(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="syntax error"):
        render_value("Hello {{ name", context)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("result == true", True),
        ("result == false", False),
        ("steps.manager.decision == 'approved'", True),
        ("steps.manager.decision == 'rejected'", False),
        ("input.amount > 100", True),
        ("input.amount > 100 and result", True),
        ("input.note is defined", False),
        ("input['Full Name'].startswith('Ada')", True),
    ],
)
def test_condition_evaluates_jinja_expression(context: dict, expression: str, expected) -> None:
    assert evaluate_condition(expression, context) is expected


def test_condition_result_is_coerced_to_bool(context: dict) -> None:
    assert evaluate_condition("input.Email", context) is True


def test_condition_on_undefined_name_fails(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="in condition 'nobody == 1'"):
        evaluate_condition("nobody == 1", context)


def test_condition_with_unsafe_access_fails(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="unsafe"):
        evaluate_condition("input.__class__.__name__ == 'dict'", context)


def test_condition_with_bad_syntax_fails(context: dict) -> None:
    with pytest.raises(TemplateFailure, match="syntax error"):
        evaluate_condition("result ==", context)


def test_condition_is_compiled_once_per_source(context: dict) -> None:
    templating._compiled_expression.cache_clear()
    for _ in range(3):
        evaluate_condition("input.amount > 1", context)
    info = templating._compiled_expression.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_template_problem_is_none_for_a_valid_template() -> None:
    assert template_problem("Hi {{ input['Full Name'] }} {% if x %}!{% endif %}") is None


@pytest.mark.parametrize("source", ["{{ name", "{% if %}", "{{ a b }}", "{% for x in y %}"])
def test_template_problem_reports_syntax_error(source: str) -> None:
    assert template_problem(source).startswith("template syntax error")


def test_condition_problem_is_none_for_a_valid_condition() -> None:
    assert condition_problem("steps.manager.decision == 'approved'") is None


@pytest.mark.parametrize("expression", ["result ==", "a b", "(x"])
def test_condition_problem_reports_syntax_error(expression: str) -> None:
    assert condition_problem(expression).startswith("condition syntax error")


def test_condition_problem_reports_empty_condition() -> None:
    assert condition_problem("  ") == "condition is empty"


def test_condition_problem_explains_braces_are_not_needed() -> None:
    assert "bare expression" in condition_problem("{{ result == true }}")


def test_referenced_roots_lists_top_level_names() -> None:
    source = "{{ input.Email }} {{ steps.a.b }}{% set local = 1 %}{{ local }}"
    assert referenced_roots(source) == {"input", "steps"}


def test_referenced_roots_of_a_broken_template_is_empty() -> None:
    assert referenced_roots("{{ input") == set()
