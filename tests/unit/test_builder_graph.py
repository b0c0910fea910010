"""The builder's graph: definitions as canvas nodes and edges, and the edits the canvas makes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app.engine.definition import validate_definition
from app.engine.tools import known_tools
from app.ui import builder_graph as graph

FLOW: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {"kind": "input", "fields": [{"name": "Email", "type": "email"},
                                               {"name": "Full Name"}], "next": "manager"},
        "manager": {"kind": "approval", "assignees": ["role:approver"], "next": "route",
                    "on_reject": "decline"},
        "route": {"kind": "branch", "branches": [
            {"if": "steps.manager.decision == 'approved'", "then": "welcome"},
            {"if": "input.Email.endswith('@vip.test')", "then": "end"},
        ], "else": "decline"},
        "welcome": {"kind": "tool", "tool": "set", "args": {"message": "hi"}, "done": True},
        "decline": {"kind": "tool", "tool": "log", "args": {}, "done": True},
    },
    "layout": {"intake": {"x": 10, "y": 20}},
}


def _edges(definition: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(e["source"], e["sourceHandle"], e["target"], e["label"])
            for e in graph.to_edges(definition)}


def test_edges_carry_next_branch_else_and_reject_links_with_their_labels() -> None:
    assert _edges(FLOW) == {
        ("intake", "next", "manager", ""),
        ("manager", "next", "route", "approved"),
        ("manager", "on_reject", "decline", "rejected"),
        ("route", "branch:0", "welcome", "if steps.manager.decision == 'approved'"),
        ("route", "else", "decline", "else"),
    }


def test_a_link_to_end_or_to_a_missing_step_draws_no_edge() -> None:
    flow = graph.update_step(FLOW, "welcome", done=None, next="nowhere")
    assert not any(e["source"] == "welcome" for e in graph.to_edges(flow))
    assert not any(e["sourceHandle"] == "branch:1" for e in graph.to_edges(flow))


def test_nodes_show_kind_title_start_and_their_problems() -> None:
    problems = graph.problems_by_step([
        {"field": "steps.route.branches[0].then", "message": "'x' names no step"},
        {"field": "definition.steps.route", "message": "unreachable"},
        {"field": "start", "message": "'a' names no step"},
    ])
    nodes = {n["id"]: n for n in graph.to_nodes(FLOW, problems, selected="route")}
    assert nodes["intake"]["data"]["start"] is True
    assert nodes["intake"]["position"] == {"x": 10.0, "y": 20.0}
    assert nodes["route"]["selected"] is True
    assert nodes["route"]["data"]["kind"] == "branch"
    assert nodes["route"]["data"]["problems"] == ["branches[0].then: 'x' names no step",
                                                  "unreachable"]
    assert nodes["welcome"]["data"]["problems"] == []
    assert [p["id"] for p in nodes["route"]["data"]["ports"]] == [
        "branch:0", "branch:1", "else", "branch:new"]


def test_steps_without_a_saved_position_are_laid_out_in_rows_from_the_start() -> None:
    where = graph.positions(FLOW)
    assert where["manager"]["y"] > where["intake"]["y"] or where["manager"] != where["intake"]
    auto = graph.auto_layout(FLOW)
    assert auto["intake"]["y"] < auto["manager"]["y"] < auto["route"]["y"] < auto["welcome"]["y"]
    assert len({(p["x"], p["y"]) for p in where.values()}) == len(where)


def test_adding_a_step_after_a_selected_step_links_its_free_next() -> None:
    flow = {"start": "intake", "steps": {"intake": FLOW["steps"]["intake"] | {"next": None}}}
    flow["steps"]["intake"].pop("next")
    added, key = graph.add_step(flow, "http", after="intake")
    assert key == "http"
    assert added["steps"]["intake"]["next"] == "http"
    assert added["steps"]["http"]["kind"] == "http"
    assert added["layout"]["http"]["y"] > added["layout"]["intake"]["y"]
    again, second = graph.add_step(added, "http")
    assert second == "http_2"
    assert "next" not in again["steps"]["http"]
    assert flow["steps"]["intake"].get("next") is None  # the argument is untouched


def test_the_first_step_added_becomes_the_start() -> None:
    added, key = graph.add_step({"steps": {}}, "input")
    assert added["start"] == key == "input"


def test_connect_sets_the_port_and_clears_done() -> None:
    linked = graph.connect(FLOW, "welcome", "next", "decline")
    assert linked["steps"]["welcome"]["next"] == "decline"
    assert "done" not in linked["steps"]["welcome"]
    assert FLOW["steps"]["welcome"]["done"] is True


def test_connecting_the_new_condition_port_appends_a_condition() -> None:
    linked = graph.connect(FLOW, "route", "branch:new", "welcome")
    assert linked["steps"]["route"]["branches"][-1] == {"if": "", "then": "welcome"}


def test_disconnect_and_reconnect_move_one_link() -> None:
    cut = graph.disconnect(FLOW, "route>branch:0")
    assert cut["steps"]["route"]["branches"][0]["then"] is None
    moved = graph.reconnect(FLOW, "manager>on_reject", "route", "else", "welcome")
    assert "on_reject" not in moved["steps"]["manager"]
    assert moved["steps"]["route"]["else"] == "welcome"


def test_removing_a_step_removes_every_link_to_it() -> None:
    removed = graph.remove_step(FLOW, "decline")
    assert "decline" not in removed["steps"]
    assert "else" not in removed["steps"]["route"]
    assert "on_reject" not in removed["steps"]["manager"]
    assert graph.remove_step(FLOW, "intake")["start"] == "manager"


def test_renaming_a_step_follows_links_layout_and_start() -> None:
    renamed = graph.rename_step(FLOW, "intake", "details")
    assert renamed["start"] == "details"
    assert "details" in renamed["layout"]
    assert next(iter(renamed["steps"])) == "details"
    renamed = graph.rename_step(FLOW, "decline", "no")
    assert renamed["steps"]["route"]["else"] == "no"
    assert renamed["steps"]["manager"]["on_reject"] == "no"
    with pytest.raises(ValueError, match="taken"):
        graph.rename_step(FLOW, "decline", "welcome")
    with pytest.raises(ValueError, match="letters"):
        graph.rename_step(FLOW, "decline", "a b")


def test_moving_a_step_saves_its_position_in_the_layout() -> None:
    moved = graph.move_step(FLOW, "route", 120.26, -40)
    assert moved["layout"]["route"] == {"x": 120.3, "y": -40.0}


def test_template_names_list_input_fields_and_earlier_steps_outputs() -> None:
    names = graph.template_names(FLOW, "welcome")
    assert "input.Email" in names
    assert 'input["Full Name"]' in names
    assert "steps.manager.decision" in names
    assert "steps.route.matched" in names
    assert not any(name.startswith("steps.welcome") for name in names)
    assert not any(name.startswith("steps.decline") for name in names)
    assert graph.template_names(FLOW, "intake")[:2] == ["input.Email", 'input["Full Name"]']


def test_new_steps_of_every_kind_are_flagged_until_filled_in_or_valid() -> None:
    for kind in graph.KINDS:
        flow = {"start": "a", "steps": {"a": graph.new_step(kind)}}
        if kind == "input":
            flow["steps"]["a"]["fields"] = [{"name": "x"}]
        _, problems = validate_definition(flow, known_tools=known_tools())
        incomplete = kind in ("http", "branch", "subworkflow")
        assert bool(problems) == incomplete, (kind, problems)


def test_edits_never_change_their_argument() -> None:
    before = copy.deepcopy(FLOW)
    graph.add_step(FLOW, "tool", after="welcome")
    graph.connect(FLOW, "route", "branch:new", "welcome")
    graph.remove_step(FLOW, "route")
    graph.rename_step(FLOW, "route", "router")
    graph.move_step(FLOW, "route", 1, 2)
    assert before == FLOW
