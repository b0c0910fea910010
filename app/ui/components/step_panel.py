"""The builder's side panel: a form for the selected step, one section per kind."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.ui.builder_edits import END_CHOICE
from app.ui.builder_graph import KINDS
from app.ui.components.form_fields import SELECT_STYLE, WIDE_SELECT_STYLE, fields_editor
from app.ui.states.builder import BuilderState as S

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
ROLES = ("approver", "admin", "builder", "viewer")


def _label(text: str, *extra: rx.Component) -> rx.Component:
    return rx.hstack(rx.text(text, size="1", weight="medium", color_scheme="gray"), *extra,
                     align="center", spacing="1", width="100%")


def section(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(_label(title), *children, spacing="1", width="100%")


def names_picker(target: str | rx.Var) -> rx.Component:
    """A menu of the template names available at this step; a pick appends it to `target`."""
    return rx.menu.root(
        rx.menu.trigger(rx.icon_button(rx.icon("braces", size=12), size="1", variant="soft",
                                       aria_label="Insert a name", title="Insert a name",
                                       data_testid=rx.Var.create("names-") + target)),
        rx.menu.content(
            rx.text("Names available here", size="1", color_scheme="gray", padding_x="8px"),
            rx.foreach(S.sel_names, lambda name: rx.menu.item(
                rx.code(name, size="1"), on_click=S.insert_name(target, name))),
            max_height="320px",
            overflow_y="auto",
        ),
    )


def text_prop(prop: str, title: str, placeholder: str = "", *, picker: bool = False,
              area: bool = False) -> rx.Component:
    control: Any = rx.text_area if area else rx.input
    extra = {"rows": "3"} if area else {}
    return rx.vstack(
        _label(title, *([rx.spacer(), names_picker(prop)] if picker else [])),
        control(value=S.sel_text[prop], on_change=lambda v: S.set_text(prop, v),
                placeholder=placeholder, size="1", width="100%",
                data_testid=f"step-{prop}", **extra),
        spacing="1",
        width="100%",
    )


def native_select(value: rx.Var | str, on_change: Any,
                  options: list[tuple[str, str]] | rx.Var, test_id: str | rx.Var,
                  wide: bool = True, first: tuple[str, str] | None = None) -> rx.Component:
    """A plain <select>: compact in a narrow panel, and simple to drive from tests."""
    children: list[Any] = [rx.el.option(first[1], value=first[0])] if first else []
    if isinstance(options, rx.Var):
        children.append(rx.foreach(options,
                                   lambda o: rx.el.option(o["label"], value=o["value"])))
    else:
        children += [rx.el.option(label, value=value_) for value_, label in options]
    return rx.el.select(*children, value=value, on_change=on_change,
                        style=WIDE_SELECT_STYLE if wide else SELECT_STYLE,
                        data_testid=test_id)


def target_select(port: str, title: str) -> rx.Component:
    return section(title, native_select(S.sel_text[port], lambda v: S.set_target(port, v),
                                        S.targets, f"step-{port}"))


def entries_editor(prop: str, title: str, key_hint: str) -> rx.Component:
    """Rows of name and (templated) value: headers, tool args, query, subworkflow input."""
    def row(entry: rx.Var, index: rx.Var) -> rx.Component:
        return rx.hstack(
            rx.input(value=entry["key"], on_change=lambda v: S.set_entry_key(prop, index, v),
                     placeholder=key_hint, size="1", width="38%",
                     data_testid=f"{prop}-key-" + index.to_string()),
            rx.input(value=entry["value"],
                     on_change=lambda v: S.set_entry_value(prop, index, v),
                     placeholder="value or {{ template }}", size="1", flex="1", min_width="0",
                     data_testid=f"{prop}-value-" + index.to_string()),
            names_picker(f"{prop}:" + index.to_string()),
            rx.icon_button(rx.icon("x", size=12), on_click=S.remove_entry(prop, index),
                           size="1", variant="ghost", color_scheme="gray",
                           aria_label="Remove"),
            spacing="1",
            align="center",
            width="100%",
        )

    return section(
        title,
        rx.foreach(S.sel_entries[prop], row),
        rx.button(rx.icon("plus", size=12), "Add", on_click=S.add_entry(prop), size="1",
                  variant="soft", data_testid=f"{prop}-add"),
    )


def _http() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.box(section("Method", native_select(S.sel_text["method"],
                                                   lambda v: S.set_text("method", v),
                                                   [(m, m) for m in HTTP_METHODS],
                                                   "step-method")), width="96px"),
            rx.box(text_prop("url", "URL", "https://…/{{ input.id }}", picker=True),
                   flex="1", min_width="0"),
            width="100%", spacing="2", align="end",
        ),
        entries_editor("headers", "Headers", "Header"),
        rx.vstack(
            _label("Body (JSON or text)", rx.spacer(), names_picker("body")),
            rx.text_area(value=S.sel_text["body"], on_change=S.set_body, rows="4",
                         placeholder='{"email": "{{ input.Email }}"}', size="1", width="100%",
                         font_family="monospace", data_testid="step-body"),
            spacing="1", width="100%",
        ),
        entries_editor("files", "Files (sent as multipart/form-data; the body's keys as text "
                       "parts)", "part"),
        section("Credential", native_select(
            S.sel_text["credential"], lambda v: S.set_text("credential", v), S.credentials,
            "step-credential", first=("", "None"))),
        rx.grid(
            text_prop("timeout_s", "Timeout (s)", "10"),
            text_prop("max_attempts", "Attempts", "3"),
            text_prop("backoff_s", "Backoff (s)", "2"),
            columns="3", spacing="2", width="100%",
        ),
        spacing="3", width="100%",
    )


def _tool() -> rx.Component:
    return rx.vstack(
        section("Tool", native_select(S.sel_text["tool"], lambda v: S.set_text("tool", v),
                                      S.tools, "step-tool")),
        entries_editor("args", "Arguments", "name"),
        rx.grid(text_prop("timeout_s", "Timeout (s)", "10"),
                text_prop("max_attempts", "Attempts", "1"), columns="2", spacing="2",
                width="100%"),
        spacing="3", width="100%",
    )


def _branch_row(row: rx.Var, index: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("if", variant="soft"),
                rx.input(value=row["if"], on_change=lambda v: S.edit_branch("if", index, v),
                         placeholder="steps.manager.decision == 'approved'", size="1",
                         flex="1", min_width="0", font_family="monospace",
                         data_testid="branch-if-" + index.to_string()),
                names_picker("if:" + index.to_string()),
                spacing="1", align="center", width="100%",
            ),
            rx.hstack(
                rx.text("then", size="1", color_scheme="gray"),
                rx.box(native_select(row["then"], lambda v: S.edit_branch("then", index, v),
                                     S.targets, "branch-then-" + index.to_string()),
                       flex="1", min_width="0"),
                rx.icon_button(rx.icon("arrow-up", size=12), size="1", variant="ghost",
                               on_click=S.edit_branch("up", index, ""), aria_label="Up"),
                rx.icon_button(rx.icon("arrow-down", size=12), size="1", variant="ghost",
                               on_click=S.edit_branch("down", index, ""), aria_label="Down"),
                rx.icon_button(rx.icon("trash-2", size=12), size="1", variant="ghost",
                               color_scheme="red", on_click=S.edit_branch("remove", index, ""),
                               aria_label="Remove condition"),
                spacing="1", align="center", width="100%",
            ),
            spacing="2", width="100%",
        ),
        size="1", width="100%",
    )


def _branch() -> rx.Component:
    return rx.vstack(
        section("Conditions (the first that holds wins)",
                rx.foreach(S.sel_branches, _branch_row),
                rx.button(rx.icon("plus", size=12), "Add condition",
                          on_click=S.edit_branch("add", 0, ""), size="1", variant="soft",
                          data_testid="branch-add")),
        target_select("else", "Else (no condition holds)"),
        spacing="3", width="100%",
    )


def _approval() -> rx.Component:
    chips = rx.flex(
        rx.foreach(S.sel_assignees, lambda a, i: rx.badge(
            a, rx.icon("x", size=12, cursor="pointer", on_click=S.edit_assignee("remove", "", i),
                       aria_label="Remove assignee"),
            variant="surface", data_testid="assignee")),
        gap="1", wrap="wrap",
    )
    return rx.vstack(
        section("Assignees", chips, rx.grid(
            native_select("", lambda v: S.edit_assignee("add", v, 0),
                          [(f"role:{r}", r) for r in ROLES], "assignee-role",
                          first=("", "+ Role…")),
            native_select("", lambda v: S.edit_assignee("add", v, 0), S.assignee_choices,
                          "assignee-user", first=("", "+ Person…")),
            columns="2", spacing="2", width="100%")),
        text_prop("instructions", "Instructions", "Approve {{ input['Full Name'] }}",
                  picker=True, area=True),
        text_prop("due_in", "Due in", "48h"),
        target_select("on_reject", "When rejected"),
        _approval_policy(),
        _approval_timers(),
        section("Approver fields (filled in to approve)",
                fields_editor(S.sel_fields, S.edit_field, prefix="approver")),
        spacing="3", width="100%",
    )


def _approval_timers() -> rx.Component:
    return rx.vstack(
        rx.grid(text_prop("remind_every", "Remind every", "1d"),
                text_prop("escalate_after", "Escalate after", "2d"),
                columns="2", spacing="2", width="100%"),
        text_prop("escalate_to", "Escalate to (comma-separated)", "role:admin, boss@acme.com"),
        section("When it is overdue (needs Due in)", native_select(
            S.sel_text["on_timeout"], lambda v: S.set_text("on_timeout", v), S.timeout_choices,
            "step-on-timeout", first=("", "Keep waiting"))),
        spacing="2", width="100%",
    )


def _approval_policy() -> rx.Component:
    mode = S.sel_text["mode"]
    return rx.vstack(
        section("Who must approve", native_select(
            rx.cond(mode == "", "any", mode), lambda v: S.set_text("mode", v),
            [("any", "Any one assignee (first decision wins)"),
             ("all", "Every assignee (one rejection rejects)"),
             ("quorum", "A number of approvals (quorum)")], "step-mode")),
        rx.cond(mode == "quorum", text_prop("quorum", "Approvals needed", "2")),
        rx.checkbox("The requester may decide their own run",
                    checked=S.sel_text["allow_requester"] == "true",
                    on_change=lambda v: S.set_flag("allow_requester", v), size="1",
                    data_testid="step-allow-requester"),
        rx.checkbox("A rejection needs a comment",
                    checked=S.sel_text["require_comment_on_reject"] == "true",
                    on_change=lambda v: S.set_flag("require_comment_on_reject", v), size="1",
                    data_testid="step-require-comment"),
        spacing="2", width="100%",
    )


def _subworkflow() -> rx.Component:
    return rx.vstack(
        section("Workflow", native_select(
            S.sel_text["workflow_id"], lambda v: S.set_text("workflow_id", v),
            S.workflow_choices, "step-workflow", first=("", "Choose a published workflow…"))),
        entries_editor("input", "Its input", "field"),
        spacing="3", width="100%",
    )


def _delay() -> rx.Component:
    return rx.vstack(
        text_prop("duration", "Wait for (a duration)", "1h30m"),
        text_prop("until", "…or until (ISO time or template)", "{{ input.start_at }}",
                  picker=True),
        rx.text("Give exactly one of the two.", size="1", color_scheme="gray"),
        spacing="3", width="100%",
    )


def _kind_form() -> rx.Component:
    return rx.match(
        S.sel_text["kind"],
        ("input", section("Input fields", fields_editor(S.sel_fields, S.edit_field))),
        ("http", _http()),
        ("tool", _tool()),
        ("branch", _branch()),
        ("approval", _approval()),
        ("signal", text_prop("instructions", "Instructions", "What the signal means",
                             picker=True, area=True)),
        ("delay", _delay()),
        ("subworkflow", _subworkflow()),
        rx.text("Unknown kind: fix it in the JSON tab.", color_scheme="red", size="2"),
    )


def _header() -> rx.Component:
    kind = S.sel_text["kind"]
    return rx.vstack(
        rx.hstack(
            rx.match(kind, *[(k, rx.icon(icon, size=18)) for k, (_, icon, _) in KINDS.items()],
                     rx.icon("circle-help", size=18)),
            rx.text(rx.match(kind, *[(k, label) for k, (label, _, _) in KINDS.items()], kind),
                    weight="bold"),
            rx.spacer(),
            rx.cond(S.sel_is_start, rx.badge("start", color_scheme="indigo"),
                    rx.button("Make start", size="1", variant="ghost", on_click=S.make_start,
                              disabled=S.read_only)),
            rx.icon_button(rx.icon("trash-2", size=14), size="1", color_scheme="red",
                           variant="soft", on_click=S.delete_selected, disabled=S.read_only,
                           aria_label="Delete step", title="Delete step",
                           data_testid="delete-step"),
            align="center", width="100%",
        ),
        rx.grid(
            section("Key", rx.input(default_value=S.selected, key=S.selected,
                                    on_blur=S.rename_selected, size="1",
                                    data_testid="step-key")),
            text_prop("title", "Title", "What this step does"),
            columns="2", spacing="2", width="100%",
        ),
        rx.cond(S.sel_problems.length() > 0, rx.callout(
            rx.vstack(rx.foreach(S.sel_problems, lambda p: rx.text(p, size="1")), spacing="1"),
            icon="triangle-alert", color_scheme="red", size="1", width="100%",
            data_testid="step-problems")),
        spacing="2", width="100%",
    )


def step_panel() -> rx.Component:
    """The selected step's form (inert while a published version is open read-only)."""
    linear = (S.sel_text["kind"] != "branch")
    return rx.vstack(
        _header(),
        rx.separator(),
        _kind_form(),
        rx.cond(linear, target_select(
            "next", rx.cond(S.sel_text["kind"] == "approval", "When approved", "Next step"))),
        rx.cond(S.edit_error != "", rx.text(S.edit_error, color="var(--red-11)", size="2")),
        spacing="3",
        width="100%",
        pointer_events=rx.cond(S.read_only, "none", "auto"),
        opacity=rx.cond(S.read_only, "0.75", "1"),
        data_testid="step-panel",
    )


__all__ = ["END_CHOICE", "step_panel"]
