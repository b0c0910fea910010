"""Workflow definition schema, whole-definition validation and the seed-004 import."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.engine.definition import (
    ApprovalStep,
    BranchStep,
    Definition,
    HttpStep,
    ToolStep,
    import_seed004,
    input_fields,
    is_seed004_flow,
    parse_definition,
    parse_duration,
    successors,
    validate_definition,
)
from app.errors import ValidationFailed

TOOLS = {"set", "log", "sleep", "fail", "echo", "count"}
SEED_TOOLS = {"get_greeting", "get_counter", "knowledge_search", "knowledge_add", "is_admin"}

DESIGN_EXAMPLE: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {
            "kind": "input",
            "fields": [
                {"name": "Full Name", "type": "text", "required": True},
                {"name": "Email", "type": "email", "required": True},
            ],
            "next": "account",
        },
        "account": {
            "kind": "http",
            "method": "POST",
            "url": "https://hr.example/api/accounts",
            "body": {"email": "{{ input.Email }}"},
            "credential": "cred_hr",
            "retry": {"max_attempts": 3, "backoff_s": 2},
            "timeout_s": 10,
            "next": "manager",
        },
        "manager": {
            "kind": "approval",
            "assignees": ["role:approver"],
            "instructions": "Approve {{ input['Full Name'] }}",
            "due_in": "48h",
            "next": "route",
        },
        "route": {
            "kind": "branch",
            "branches": [{"if": "steps.manager.decision == 'approved'", "then": "welcome"}],
            "else": "end",
        },
        "welcome": {
            "kind": "tool",
            "tool": "set",
            "args": {"message": "Welcome {{ input['Full Name'] }}"},
            "done": True,
        },
    },
    "layout": {"intake": {"x": 0, "y": 0}},
}

SEED_GREETING = {
    "start": {"name": "greet", "tool": "get_greeting", "args": {}, "next": "count"},
    "count": {"name": "count", "tool": "get_counter", "args": {}, "done": True},
}
SEED_SEARCH = {
    "start": {
        "name": "search",
        "tool": "knowledge_search",
        "args": {"query": "{{input.topic}}"},
        "done": True,
    }
}
SEED_APPROVAL = {
    "start": {"name": "await_approval", "tool": None, "args": {}, "next": "do_write"},
    "do_write": {
        "name": "do_write",
        "tool": "knowledge_add",
        "args": {"title": "{{input.title}}", "content": "{{input.content}}", "scope": "general"},
        "done": True,
    },
}
SEED_BRANCH = {
    "start": {
        "name": "check",
        "tool": "is_admin",
        "args": {},
        "branch": [
            {"if": "result == true", "then": "admin_path"},
            {"if": "result == false", "then": "user_path"},
        ],
    },
    "admin_path": {
        "name": "admin_path",
        "tool": "get_greeting",
        "args": {"name": "World"},
        "done": True,
    },
    "user_path": {"name": "user_path", "tool": "get_counter", "args": {}, "done": True},
}


def example() -> dict[str, Any]:
    return copy.deepcopy(DESIGN_EXAMPLE)


def flow(**steps: dict[str, Any]) -> dict[str, Any]:
    """A definition starting at the first step given."""
    return {"start": next(iter(steps)), "steps": steps}


def problems(raw: Any, **kwargs: Any) -> list[tuple[str, str]]:
    kwargs.setdefault("known_tools", TOOLS)
    definition, errors = validate_definition(raw, **kwargs)
    assert (definition is None) == bool(errors)
    return [(e.field, e.message) for e in errors]


def fields_of(raw: Any, **kwargs: Any) -> list[str]:
    return [field for field, _ in problems(raw, **kwargs)]


def tool(next_: str | None = None, **extra: Any) -> dict[str, Any]:
    step = {"kind": "tool", "tool": "log", **extra}
    return {**step, "next": next_} if next_ else step


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("5m", 300), ("48h", 172800), ("2d", 172800), ("1h30m", 5400), ("1.5h", 5400)],
)
def test_parse_duration_reads_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "90", "5 minutes", "h", "-5m", "5mh"])
def test_parse_duration_rejects_malformed_text(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


# ---------------------------------------------------------------- the happy path


def test_design_example_validates_cleanly() -> None:
    definition, errors = validate_definition(example(), known_tools=TOOLS)
    assert errors == []
    assert isinstance(definition, Definition)
    assert isinstance(definition.steps["account"], HttpStep)


def test_edge_to_end_without_an_end_step_becomes_no_edge() -> None:
    definition = parse_definition(example(), known_tools=TOOLS)
    route = definition.steps["route"]
    assert isinstance(route, BranchStep)
    assert route.else_ is None


def test_edge_to_a_real_end_step_is_kept() -> None:
    raw = flow(a=tool("end"), end=tool())
    assert parse_definition(raw, known_tools=TOOLS).steps["a"].next == "end"


def test_parsed_definition_survives_a_dump_and_reload() -> None:
    definition = parse_definition(example(), known_tools=TOOLS)
    reloaded = Definition.model_validate(definition.model_dump(by_alias=True))
    assert reloaded == definition


def test_input_fields_are_those_of_an_input_start_step() -> None:
    definition = parse_definition(example(), known_tools=TOOLS)
    assert [f.name for f in input_fields(definition)] == ["Full Name", "Email"]


def test_input_fields_are_empty_without_an_input_start_step() -> None:
    assert input_fields(parse_definition(flow(a=tool()), known_tools=TOOLS)) == []


def test_successors_of_a_branch_label_conditions_and_else() -> None:
    step = BranchStep.model_validate(
        {"kind": "branch", "branches": [{"if": "result", "then": "a"}], "else": "b"}
    )
    assert successors(step) == [("if result", "a"), ("else", "b")]


def test_successors_of_an_approval_include_on_reject() -> None:
    step = ApprovalStep(assignees=["role:admin"], next="a", on_reject="b")
    assert successors(step) == [("next", "a"), ("on_reject", "b")]


def test_successors_of_a_terminal_step_are_empty() -> None:
    assert successors(ToolStep(tool="log", done=True)) == []


def test_step_without_next_is_valid_and_ends_the_run() -> None:
    assert problems(flow(a=tool())) == []


def test_parse_definition_raises_validation_failed_with_every_problem() -> None:
    raw = flow(a={"kind": "tool", "tool": "nope", "next": "ghost"})
    with pytest.raises(ValidationFailed) as info:
        parse_definition(raw, known_tools=TOOLS)
    assert info.value.detail == "The workflow definition is invalid"
    assert {e.field for e in info.value.errors} == {"steps.a.next", "steps.a.tool"}


# ---------------------------------------------------------------- top level


@pytest.mark.parametrize("raw", [None, [], "start", 3])
def test_definition_must_be_an_object(raw: Any) -> None:
    assert fields_of(raw) == ["definition"]


def test_missing_start_is_reported() -> None:
    assert ("start", "is required") in problems({"steps": {"a": tool()}})


def test_start_naming_no_step_is_reported() -> None:
    raw = {"start": "ghost", "steps": {"a": tool()}}
    assert problems(raw) == [("start", "'ghost' names no step")]


def test_missing_steps_are_reported() -> None:
    assert fields_of({"start": "a"}) == ["steps"]


def test_empty_steps_are_reported() -> None:
    assert problems({"start": "a", "steps": {}}) == [
        ("steps", "a workflow needs at least one step")
    ]


def test_unknown_top_level_property_is_reported() -> None:
    raw = {**flow(a=tool()), "strat": "a"}
    assert problems(raw) == [("strat", "unknown property 'strat'")]


def test_malformed_layout_is_reported() -> None:
    raw = {**flow(a=tool()), "layout": {"a": {"x": "left", "y": 0}}}
    assert fields_of(raw) == ["layout.a.x"]


def test_max_duration_must_be_positive() -> None:
    raw = {**flow(a=tool()), "max_duration_s": 0}
    assert fields_of(raw) == ["max_duration_s"]


@pytest.mark.parametrize("key", ["has space", "dot.ted", "x" * 65, "é", "trailing\n"])
def test_malformed_step_key_is_reported(key: str) -> None:
    assert f"steps.{key}" in fields_of(flow(**{key: tool()}))


# ---------------------------------------------------------------- per-step schema


def test_step_that_is_not_an_object_is_reported() -> None:
    assert problems(flow(a=tool("b"), b=[])) == [("steps.b", "a step must be an object")]


def test_step_without_kind_is_reported() -> None:
    assert fields_of(flow(a={"tool": "log"})) == ["steps.a.kind"]


def test_unknown_kind_is_reported_with_the_known_kinds() -> None:
    [(field, message)] = problems(flow(a={"kind": "email"}))
    assert field == "steps.a.kind"
    assert message.startswith("unknown step kind 'email' (expected one of input, http, tool")


def test_misspelt_property_is_reported() -> None:
    assert problems(flow(a={"kind": "tool", "tool": "log", "nxt": "b"})) == [
        ("steps.a.nxt", "unknown property 'nxt'")
    ]


def test_one_bad_step_does_not_hide_problems_in_others() -> None:
    raw = flow(a=tool("b", retry={"max_attempts": 0}), b={"kind": "http", "next": "c"}, c=tool())
    assert fields_of(raw) == ["steps.a.retry.max_attempts", "steps.b.url"]


def test_next_and_done_together_are_reported() -> None:
    raw = flow(a=tool("b", done=True), b=tool())
    assert problems(raw) == [("steps.a", "a step cannot have both 'next' and 'done: true'")]


def test_http_method_is_case_insensitive() -> None:
    raw = flow(a={"kind": "http", "url": "https://x.example", "method": "post"})
    assert parse_definition(raw, known_tools=TOOLS).steps["a"].method == "POST"


def test_unknown_http_method_is_reported() -> None:
    raw = flow(a={"kind": "http", "url": "https://x.example", "method": "FETCH"})
    assert fields_of(raw) == ["steps.a.method"]


@pytest.mark.parametrize("timeout", [0, -1, 301])
def test_timeout_is_bounded(timeout: float) -> None:
    raw = flow(a={"kind": "http", "url": "https://x.example", "timeout_s": timeout})
    assert fields_of(raw) == ["steps.a.timeout_s"]


def test_http_retries_three_times_by_default() -> None:
    raw = flow(a={"kind": "http", "url": "https://x.example"})
    assert parse_definition(raw, known_tools=TOOLS).steps["a"].retry.max_attempts == 3


def test_http_retry_without_max_attempts_still_retries_three_times() -> None:
    raw = flow(a={"kind": "http", "url": "https://x.example", "retry": {"backoff_s": 5}})
    retry = parse_definition(raw, known_tools=TOOLS).steps["a"].retry
    assert (retry.max_attempts, retry.backoff_s, retry.max_backoff_s) == (3, 5, 300)


def test_tool_runs_once_by_default() -> None:
    assert parse_definition(flow(a=tool()), known_tools=TOOLS).steps["a"].retry.max_attempts == 1


@pytest.mark.parametrize("retry", [{"max_attempts": 21}, {"backoff_s": -1}])
def test_retry_policy_is_bounded(retry: dict[str, Any]) -> None:
    assert len(problems(flow(a=tool(retry=retry)))) == 1


def test_branch_needs_at_least_one_branch() -> None:
    assert fields_of(flow(a={"kind": "branch", "branches": []})) == ["steps.a.branches"]


def test_branch_does_not_take_next() -> None:
    raw = flow(
        a={"kind": "branch", "branches": [{"if": "true", "then": "b"}], "next": "b"}, b=tool()
    )
    assert fields_of(raw) == ["steps.a.next"]


@pytest.mark.parametrize(
    "assignee", ["role:admin", "role:approver", "user:ada@example.com", "ada@example.com"]
)
def test_approval_accepts_roles_users_and_emails(assignee: str) -> None:
    assert problems(flow(a={"kind": "approval", "assignees": [assignee]})) == []


@pytest.mark.parametrize("assignee", ["role:boss", "user:ada", "ada", "group:ops"])
def test_approval_rejects_malformed_assignees(assignee: str) -> None:
    raw = flow(a={"kind": "approval", "assignees": ["role:admin", assignee]})
    assert fields_of(raw) == ["steps.a.assignees[1]"]


def test_approval_needs_an_assignee() -> None:
    assert fields_of(flow(a={"kind": "approval", "assignees": []})) == ["steps.a.assignees"]


def test_approval_due_in_must_be_a_duration() -> None:
    raw = flow(a={"kind": "approval", "assignees": ["role:admin"], "due_in": "two days"})
    assert fields_of(raw) == ["steps.a.due_in"]


@pytest.mark.parametrize("wait", [{}, {"duration": "5m", "until": "2030-01-01T00:00:00Z"}])
def test_delay_needs_exactly_one_of_duration_or_until(wait: dict[str, str]) -> None:
    assert fields_of(flow(a={"kind": "delay", **wait})) == ["steps.a"]


@pytest.mark.parametrize("until", ["2030-01-01T09:00:00Z", "2030-01-01", "{{ input.when }}"])
def test_delay_until_accepts_iso_datetimes_and_templates(until: str) -> None:
    assert problems(flow(a={"kind": "delay", "until": until})) == []


def test_delay_until_rejects_other_text() -> None:
    assert fields_of(flow(a={"kind": "delay", "until": "next tuesday"})) == ["steps.a.until"]


def test_delay_duration_must_be_a_duration() -> None:
    assert fields_of(flow(a={"kind": "delay", "duration": "soon"})) == ["steps.a.duration"]


def test_select_field_without_options_is_reported_at_its_index() -> None:
    raw = flow(a={"kind": "input", "fields": [{"name": "A"}, {"name": "B", "type": "select"}]})
    assert fields_of(raw) == ["steps.a.fields[1]"]


# ---------------------------------------------------------------- graph


def test_dangling_next_is_reported() -> None:
    assert problems(flow(a=tool("ghost"))) == [("steps.a.next", "'ghost' names no step")]


def test_dangling_branch_target_is_reported() -> None:
    raw = flow(
        a={"kind": "branch", "branches": [{"if": "true", "then": "b"}, {"if": "x", "then": "c"}]},
        b=tool(),
    )
    assert fields_of(raw) == ["steps.a.branches[1].then"]


def test_dangling_else_is_reported() -> None:
    raw = flow(a={"kind": "branch", "branches": [{"if": "x", "then": "b"}], "else": "c"}, b=tool())
    assert fields_of(raw) == ["steps.a.else"]


def test_dangling_on_reject_is_reported() -> None:
    raw = flow(a={"kind": "approval", "assignees": ["role:admin"], "on_reject": "ghost"})
    assert fields_of(raw) == ["steps.a.on_reject"]


def test_dangling_next_of_an_invalid_step_is_still_reported() -> None:
    raw = flow(a={"kind": "tool", "next": "ghost"})
    assert fields_of(raw) == ["steps.a.tool", "steps.a.next"]


def test_unreachable_step_is_reported() -> None:
    raw = flow(a=tool(), b=tool())
    assert problems(raw) == [("steps.b", "step 'b' is unreachable from the start step 'a'")]


@pytest.mark.parametrize("edge", ["on_reject", "next"])
def test_steps_reached_through_an_approval_are_reachable(edge: str) -> None:
    raw = flow(a={"kind": "approval", "assignees": ["role:admin"], edge: "b"}, b=tool())
    assert problems(raw) == []


def test_cycle_without_a_waiting_step_is_reported_in_order() -> None:
    raw = flow(a=tool("b"), b=tool("c"), c=tool("b"))
    assert problems(raw) == [("steps.b", "cycle with no approval, signal or delay: b → c → b")]


def test_step_pointing_at_itself_is_a_cycle() -> None:
    raw = flow(a={"kind": "branch", "branches": [{"if": "true", "then": "a"}]})
    assert problems(raw) == [("steps.a", "cycle with no approval, signal or delay: a → a")]


@pytest.mark.parametrize(
    "waiting",
    [
        {"kind": "approval", "assignees": ["role:approver"], "next": "a"},
        {"kind": "signal", "next": "a"},
        {"kind": "delay", "duration": "1h", "next": "a"},
    ],
)
def test_cycle_through_a_waiting_step_is_allowed(waiting: dict[str, Any]) -> None:
    assert problems(flow(a=tool("b"), b=waiting)) == []


def test_rework_loop_through_on_reject_is_allowed() -> None:
    raw = flow(
        draft=tool("review"),
        review={"kind": "approval", "assignees": ["role:approver"], "on_reject": "draft"},
    )
    assert problems(raw) == []


# ---------------------------------------------------------------- semantic checks


def test_unknown_tool_is_reported() -> None:
    [(field, message)] = problems(flow(a={"kind": "tool", "tool": "launch_rockets"}))
    assert field == "steps.a.tool"
    assert message.startswith("unknown tool 'launch_rockets'")


def test_unknown_subworkflow_is_reported_when_workflows_are_known() -> None:
    raw = flow(a={"kind": "subworkflow", "workflow_id": "wf_missing"})
    assert problems(raw, known_workflows={"wf_1"}) == [
        ("steps.a.workflow_id", "unknown workflow 'wf_missing'")
    ]


def test_subworkflow_is_not_checked_when_workflows_are_unknown() -> None:
    assert problems(flow(a={"kind": "subworkflow", "workflow_id": "wf_missing"})) == []


@pytest.mark.parametrize(
    ("step", "field"),
    [
        ({"kind": "http", "url": "https://x/{{ id"}, "steps.a.url"),
        (
            {"kind": "http", "url": "https://x", "headers": {"X-Id": "{{ a b }}"}},
            "steps.a.headers.X-Id",
        ),
        (
            {"kind": "http", "url": "https://x", "body": {"a": ["ok", "{% if %}"]}},
            "steps.a.body.a[1]",
        ),
        ({"kind": "http", "url": "https://x", "query": {"q": "{{ q"}}, "steps.a.query.q"),
        ({"kind": "tool", "tool": "log", "args": {"msg": "{{"}}, "steps.a.args.msg"),
        (
            {"kind": "approval", "assignees": ["role:admin"], "instructions": "{{ x"},
            "steps.a.instructions",
        ),
        ({"kind": "signal", "instructions": "{% for %}"}, "steps.a.instructions"),
        (
            {"kind": "subworkflow", "workflow_id": "wf_1", "input": {"n": "{{ }}"}},
            "steps.a.input.n",
        ),
        ({"kind": "delay", "until": "{{ input.when"}, "steps.a.until"),
    ],
)
def test_template_syntax_error_is_reported_where_it_is(step: dict[str, Any], field: str) -> None:
    [(where, message)] = problems(flow(a=step))
    assert where == field
    assert message.startswith("template syntax error")


def test_condition_syntax_error_is_reported() -> None:
    raw = flow(a={"kind": "branch", "branches": [{"if": "result ==", "then": "b"}]}, b=tool())
    [(field, message)] = problems(raw)
    assert field == "steps.a.branches[0].if"
    assert message.startswith("condition syntax error")


def test_duplicate_field_names_are_reported_ignoring_case() -> None:
    raw = flow(a={"kind": "input", "fields": [{"name": "Email"}, {"name": "email"}]})
    assert problems(raw) == [("steps.a.fields[1].name", "duplicate field name 'email'")]


def test_only_the_start_step_may_be_an_input_step() -> None:
    raw = flow(a=tool("b"), b={"kind": "input", "fields": []})
    assert problems(raw) == [("steps.b.kind", "only the start step may be an 'input' step")]


def test_every_kind_of_problem_is_reported_at_once() -> None:
    raw = example()
    raw["steps"]["account"]["url"] = "{{ broken"
    raw["steps"]["welcome"]["tool"] = "nope"
    raw["steps"]["route"]["branches"][0]["then"] = "ghost"
    raw["steps"]["orphan"] = tool()
    assert fields_of(raw) == [
        "steps.route.branches[0].then",
        "steps.welcome",
        "steps.orphan",
        "steps.account.url",
        "steps.welcome.tool",
    ]


# ---------------------------------------------------------------- seed 004 import


@pytest.mark.parametrize("seed", [SEED_GREETING, SEED_SEARCH, SEED_APPROVAL, SEED_BRANCH])
def test_seed_examples_convert_to_valid_definitions(seed: dict[str, Any]) -> None:
    assert is_seed004_flow(seed)
    assert problems(import_seed004(seed), known_tools=SEED_TOOLS) == []


def test_seed_tool_step_becomes_a_tool_step_titled_by_its_name() -> None:
    converted = import_seed004(SEED_GREETING)
    assert converted == {
        "start": "start",
        "steps": {
            "start": {
                "kind": "tool",
                "tool": "get_greeting",
                "args": {},
                "title": "greet",
                "next": "count",
            },
            "count": {
                "kind": "tool",
                "tool": "get_counter",
                "args": {},
                "title": "count",
                "done": True,
            },
        },
    }


def test_seed_gate_becomes_a_signal_step() -> None:
    step = import_seed004(SEED_APPROVAL)["steps"]["start"]
    assert step == {"kind": "signal", "title": "await_approval", "next": "do_write"}


def test_seed_input_placeholders_are_kept() -> None:
    args = import_seed004(SEED_SEARCH)["steps"]["start"]["args"]
    assert args == {"query": "{{input.topic}}"}


def test_seed_branch_becomes_a_tool_step_followed_by_a_branch_step() -> None:
    steps = import_seed004(SEED_BRANCH)["steps"]
    assert steps["start"]["next"] == "start__branch"
    assert steps["start__branch"] == {
        "kind": "branch",
        "branches": [
            {"if": "result == true", "then": "admin_path"},
            {"if": "result == false", "then": "user_path"},
        ],
    }


def test_seed_next_beside_a_branch_becomes_its_else() -> None:
    seed = copy.deepcopy(SEED_BRANCH)
    seed["start"]["next"] = "user_path"
    assert import_seed004(seed)["steps"]["start__branch"]["else"] == "user_path"


def test_seed_without_start_fails_with_the_seed_message() -> None:
    with pytest.raises(ValidationFailed) as info:
        import_seed004({"other": {"tool": "x"}})
    assert info.value.detail == "Flow must have a 'start' key"
    assert [(e.field, e.code) for e in info.value.errors] == [("flow.start", "required")]


def test_seed_that_is_not_an_object_fails() -> None:
    with pytest.raises(ValidationFailed) as info:
        import_seed004([])  # type: ignore[arg-type]
    assert [e.field for e in info.value.errors] == ["flow"]


def test_seed_bad_shapes_are_named() -> None:
    seed = {
        "start": {"tool": 5, "args": [], "next": "b", "nxet": "b"},
        "b": {"tool": "x", "branch": [{"if": "result"}]},
        "c": "not a step",
    }
    with pytest.raises(ValidationFailed) as info:
        import_seed004(seed)
    assert [e.field for e in info.value.errors] == [
        "flow.start.nxet",
        "flow.start.tool",
        "flow.start.args",
        "flow.b.branch[0]",
        "flow.c",
    ]


def test_seed_key_clashing_with_a_synthetic_branch_key_fails() -> None:
    seed = {**copy.deepcopy(SEED_BRANCH), "start__branch": {"tool": "x"}}
    with pytest.raises(ValidationFailed) as info:
        import_seed004(seed)
    assert [e.field for e in info.value.errors] == ["flow.start"]


def test_our_own_format_is_not_mistaken_for_a_seed_flow() -> None:
    assert not is_seed004_flow(example())


@pytest.mark.parametrize("raw", [None, [], {"start": {"kind": "tool"}}, {"other": {"tool": "x"}}])
def test_other_shapes_are_not_seed_flows(raw: Any) -> None:
    assert not is_seed004_flow(raw)


def test_a_quorum_the_named_assignees_cannot_reach_is_refused() -> None:
    def flow(assignees: list[str], quorum: int) -> dict[str, Any]:
        return {"start": "ask", "steps": {"ask": {
            "kind": "approval", "assignees": assignees, "mode": "quorum", "quorum": quorum,
            "done": True}}}

    with pytest.raises(ValidationFailed) as refused:
        parse_definition(flow(["ann@acme.test", "bob@acme.test"], 3), known_tools=TOOLS)
    assert "cannot be reached by 2 named assignee(s)" in str(refused.value.errors)
    # A role may hold any number of members: the run decides.
    parse_definition(flow(["ann@acme.test", "role:approver"], 3), known_tools=TOOLS)
    parse_definition(flow(["ann@acme.test", "bob@acme.test"], 2), known_tools=TOOLS)
