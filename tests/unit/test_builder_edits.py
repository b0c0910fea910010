"""The side panel's edits: input text becomes the definition's values, never silently lost."""

from __future__ import annotations

from app.ui import builder_edits as edits

HTTP = {"kind": "http", "method": "POST", "url": "https://x.test", "headers": {"A": "1"},
        "retry": {"max_attempts": 3}, "next": "b"}


def test_text_view_shows_every_scalar_and_end_for_missing_links() -> None:
    view = edits.text_view(HTTP)
    assert view["url"] == "https://x.test"
    assert view["max_attempts"] == "3"
    assert view["next"] == "b"
    assert view["on_reject"] == edits.END_CHOICE
    assert view["body"] == ""


def test_numbers_are_parsed_and_junk_is_kept_for_validation_to_flag() -> None:
    step = edits.set_text(HTTP, "timeout_s", "2.5")
    assert step["timeout_s"] == 2.5
    step = edits.set_text(step, "max_attempts", "5")
    assert step["retry"] == {"max_attempts": 5}
    assert edits.set_text(step, "timeout_s", "soon")["timeout_s"] == "soon"
    assert "timeout_s" not in edits.set_text(step, "timeout_s", "")


def test_optional_text_is_removed_when_emptied_but_required_text_stays() -> None:
    step = edits.set_text(HTTP, "credential", "hr")
    assert step["credential"] == "hr"
    assert "credential" not in edits.set_text(step, "credential", " ")
    assert edits.set_text(step, "url", "")["url"] == ""
    assert edits.set_text(step, "method", "get")["method"] == "GET"


def test_targets_and_done_exclude_each_other() -> None:
    done = edits.set_done(HTTP, True)
    assert done["done"] is True and "next" not in done
    linked = edits.set_target(done, "next", "c")
    assert linked["next"] == "c" and "done" not in linked
    assert "next" not in edits.set_target(linked, "next", edits.END_CHOICE)


def test_body_is_json_when_it_parses_and_text_otherwise() -> None:
    assert edits.set_body(HTTP, '{"email": "{{ input.Email }}"}')["body"] == {
        "email": "{{ input.Email }}"}
    assert edits.set_body(HTTP, "{broken")["body"] == "{broken"
    assert "body" not in edits.set_body(HTTP, "  ")


def test_key_value_rows_add_rename_edit_and_remove_without_losing_rows() -> None:
    step = edits.add_entry(HTTP, "headers")
    assert edits.entries(step, "headers") == [{"key": "A", "value": "1"},
                                               {"key": "X-Header", "value": ""}]
    step = edits.set_entry_key(step, "headers", 1, "Authorization")
    step = edits.set_entry_value(step, "headers", 1, "Bearer {{ input.t }}")
    assert step["headers"] == {"A": "1", "Authorization": "Bearer {{ input.t }}"}
    assert edits.set_entry_key(step, "headers", 1, "A") == step  # a duplicate is refused
    assert edits.remove_entry(step, "headers", 0)["headers"] == {
        "Authorization": "Bearer {{ input.t }}"}
    typed = edits.set_entry_value({"args": {"n": 1}}, "args", 0, "2")
    assert typed["args"] == {"n": 2}


def test_branches_are_an_ordered_list_of_conditions_and_targets() -> None:
    step = {"kind": "branch", "branches": [{"if": "a", "then": "x"}]}
    step = edits.edit_branches(step, "add")
    step = edits.edit_branches(step, "if", 1, " b == 1 ")
    step = edits.edit_branches(step, "then", 1, "y")
    step = edits.edit_branches(step, "up", 1)
    assert step["branches"] == [{"if": "b == 1", "then": "y"}, {"if": "a", "then": "x"}]
    assert edits.branch_rows(edits.edit_branches(step, "then", 0, edits.END_CHOICE))[0] == {
        "if": "b == 1", "then": edits.END_CHOICE}
    assert len(edits.edit_branches(step, "remove", 0)["branches"]) == 1


def test_assignees_are_added_once_and_removed_by_position() -> None:
    step = edits.edit_assignees({"assignees": ["role:approver"]}, "add", "user:a@b.test")
    assert edits.edit_assignees(step, "add", "role:approver") == step
    assert edits.edit_assignees(step, "remove", index=0)["assignees"] == ["user:a@b.test"]


def test_fields_are_added_with_unique_names_typed_reordered_and_removed() -> None:
    fields = edits.edit_fields([], "add")
    fields = edits.edit_fields(fields, "add", value="select")
    assert [f["name"] for f in fields] == ["Field", "Field 2"]
    assert fields[1]["options"] == ["Option 1", "Option 2"]
    fields = edits.edit_fields(fields, "set", 1, "options", "a, b ,")
    fields = edits.edit_fields(fields, "set", 0, "required", True)
    fields = edits.edit_fields(fields, "set", 0, "help", "Your name")
    fields = edits.edit_fields(fields, "down", 0)
    assert fields[0]["options"] == ["a", "b"] and fields[1]["required"] is True
    assert edits.field_rows(fields)[1]["help"] == "Your name"
    fields = edits.edit_fields(fields, "set", 0, "type", "text")
    assert "options" not in fields[0]
    assert len(edits.edit_fields(fields, "remove", 0)) == 1


def test_insert_name_appends_a_template_or_a_bare_name() -> None:
    assert edits.insert_name("", "input.Email") == "{{ input.Email }}"
    assert edits.insert_name("Hi", "input.Email") == "Hi {{ input.Email }}"
    assert edits.insert_name("x ==", "steps.a.b", bare=True) == "x == steps.a.b"


def test_the_approval_policy_edits() -> None:
    step = {"kind": "approval", "assignees": ["role:approver"]}
    quorum = edits.set_text(edits.set_text(step, "mode", "quorum"), "quorum", "2")
    assert quorum["mode"] == "quorum" and quorum["quorum"] == 2
    view = edits.text_view(quorum)
    assert view["mode"] == "quorum" and view["quorum"] == "2"
    back = edits.set_text(quorum, "mode", "any")
    assert "mode" not in back and "quorum" not in back  # the default, and no stray quorum
    assert "quorum" not in edits.set_text(quorum, "mode", "all")
    flagged = edits.set_flag(step, "allow_requester", True)
    assert flagged["allow_requester"] is True
    assert edits.text_view(flagged)["allow_requester"] == "true"
    assert "allow_requester" not in edits.set_flag(flagged, "allow_requester", False)


def test_the_approval_timer_edits() -> None:
    step = {"kind": "approval", "assignees": ["role:approver"]}
    timed = edits.set_text(step, "escalate_to", " role:admin, boss@acme.test ,")
    assert timed["escalate_to"] == ["role:admin", "boss@acme.test"]
    assert edits.text_view(timed)["escalate_to"] == "role:admin, boss@acme.test"
    assert "escalate_to" not in edits.set_text(timed, "escalate_to", " ")
    assert edits.set_text(step, "on_timeout", "reject")["on_timeout"] == "reject"
    assert "on_timeout" not in edits.set_text({**step, "on_timeout": "x"}, "on_timeout", "")
