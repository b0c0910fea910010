"""Fields, both ways: an editor for a list of field specs (a workflow's input step, a form)
and the inputs that render a spec for someone to fill in (public form, preview, test run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import reflex as rx

FIELD_TYPES = ("text", "email", "number", "integer", "textarea", "select", "checkbox", "date",
               "url", "file")
_HTML_TYPES = (("email", "email"), ("number", "number"), ("integer", "number"),
               ("date", "date"), ("url", "url"))

OnEdit = Callable[..., Any]  # on_edit(action, index, prop, value) → an event
OnChange = Callable[[Any, Any], Any]  # on_change(field name, value) → an event
SELECT_STYLE = {"height": "24px", "border": "1px solid var(--gray-a7)",
                "borderRadius": "var(--radius-2)", "padding": "0 4px", "fontSize": "12px",
                "background": "var(--color-surface)", "color": "var(--gray-12)",
                "maxWidth": "100%"}
WIDE_SELECT_STYLE = {**SELECT_STYLE, "height": "32px", "fontSize": "14px", "width": "100%",
                     "padding": "0 8px"}


def _type_select(value: rx.Var, on_change: Any, test_id: rx.Var | str) -> rx.Component:
    return rx.el.select(
        *[rx.el.option(t, value=t) for t in FIELD_TYPES],
        value=value,
        on_change=on_change,
        style=SELECT_STYLE,
        data_testid=test_id,
        aria_label="Field type",
    )


def _icon_button(icon: str, on_click: Any, label: str, **props: Any) -> rx.Component:
    return rx.icon_button(rx.icon(icon, size=14), on_click=on_click, size="1",
                          variant="ghost", color_scheme="gray", aria_label=label,
                          title=label, **props)


def _labelled(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), control, spacing="1",
                     width="100%", min_width="0")


def _field_card(row: rx.Var, index: rx.Var, on_edit: OnEdit, extended: bool,
                prefix: str, problems: rx.Var | None = None) -> rx.Component:
    def setter(prop: str) -> Callable[[Any], Any]:
        return lambda value: on_edit("set", index, prop, value)

    def text(prop: str, placeholder: str) -> rx.Component:
        return rx.input(value=row[prop], on_change=setter(prop), placeholder=placeholder,
                        size="1", width="100%",
                        data_testid=f"{prefix}-field-{prop}-" + index.to_string())

    extra = []
    if extended:
        extra = [
            rx.grid(_labelled("Label", text("label", "Shown instead of the name")),
                    _labelled("Placeholder", text("placeholder", "Example value")),
                    columns="2", spacing="2", width="100%"),
            rx.grid(_labelled("Help text", text("help", "Shown under the field")),
                    _labelled("Page", text("page", "1")),
                    columns="3fr 1fr", spacing="2", width="100%"),
        ]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.input(value=row["name"], on_change=setter("name"), placeholder="Name",
                         size="1", flex="1", min_width="0",
                         data_testid=f"{prefix}-field-name-" + index.to_string()),
                _type_select(row["type"], setter("type"),
                             f"{prefix}-field-type-" + index.to_string()),
                _icon_button("arrow-up", on_edit("up", index, "", ""), "Move up"),
                _icon_button("arrow-down", on_edit("down", index, "", ""), "Move down"),
                _icon_button("trash-2", on_edit("remove", index, "", ""), "Remove field",
                             data_testid=f"{prefix}-field-remove-" + index.to_string()),
                spacing="1",
                align="center",
                width="100%",
            ),
            rx.cond(
                row["type"] == "select",
                _labelled("Options (comma-separated)", text("options", "Red, Green, Blue")),
            ),
            rx.cond(
                row["type"] == "file",
                rx.grid(_labelled("Max size (MB)", text("max_mb", "10")),
                        _labelled("Allowed types", text("accept", "application/pdf, image/*")),
                        columns="2", spacing="2", width="100%"),
            ),
            *extra,
            _labelled("Show only if (on earlier fields)", text("show_if", 'reason == "Other"')),
            rx.checkbox("Required", checked=row["required"] == "true",
                        on_change=setter("required"), size="1",
                        data_testid=f"{prefix}-field-required-" + index.to_string()),
            *([rx.cond(problems.get(index.to_string(), "") != "", rx.text(
                problems.get(index.to_string(), ""), size="1", color="var(--red-11)",
                role="alert", data_testid=f"{prefix}-field-problem-" + index.to_string()))]
              if problems is not None else []),
            spacing="2",
            width="100%",
        ),
        size="1",
        width="100%",
    )


def fields_editor(rows: rx.Var, on_edit: OnEdit, *, extended: bool = False,
                  prefix: str = "input", problems: rx.Var | None = None) -> rx.Component:
    """Add, reorder, edit and remove fields; `rows` come from builder_edits.field_rows;
    `problems`: a refused save's messages by field index ("0", "1", …)."""
    return rx.vstack(
        rx.foreach(rows, lambda row, i: _field_card(row, i, on_edit, extended, prefix,
                                                    problems)),
        rx.cond(rows.length() == 0,
                rx.text("No fields yet.", size="2", color_scheme="gray")),
        rx.menu.root(
            rx.menu.trigger(rx.button(rx.icon("plus", size=14), "Add field", size="1",
                                      variant="soft", data_testid=f"{prefix}-add-field")),
            rx.menu.content(
                *[rx.menu.item(t, on_click=on_edit("add", 0, "", t),
                               data_testid=f"{prefix}-add-field-{t}") for t in FIELD_TYPES],
            ),
        ),
        spacing="2",
        width="100%",
    )


# ---------------------------------------------------------------- filling fields in


def _html_type(kind: rx.Var) -> rx.Var:
    return rx.match(kind, *_HTML_TYPES, "text")


def field_control(spec: rx.Var, *, error: rx.Var | None = None,
                  value: rx.Var | None = None, on_change: OnChange | None = None,
                  files_by_id: bool = False) -> rx.Component:
    """An uncontrolled input named after the field, for an `rx.form` to submit;
    `on_change(name, value)` also hears every change (a page evaluating `show_if`).
    A file field is a placeholder (a preview), or with `files_by_id` a text input for an
    uploaded file's id."""
    name = spec["name"].to(str)
    invalid = {"aria_invalid": rx.cond(error != "", "true", "false")} if error is not None \
        else {}
    common: dict[str, Any] = {"name": name, "id": "field-" + name,
                              "data_testid": "field-" + name, **invalid}
    if on_change is not None:
        common["on_change"] = lambda changed: on_change(name, changed)
    placeholder = spec["placeholder"].to(str)
    default = value if value is not None else ""
    return rx.match(
        spec["type"],
        ("textarea", rx.text_area(placeholder=placeholder, default_value=default, rows="4",
                                  width="100%", **common)),
        ("select", rx.el.select(
            rx.el.option("Choose…", value=""),
            rx.foreach(spec["options"].to(list[str]), lambda o: rx.el.option(o, value=o)),
            default_value=default, style=WIDE_SELECT_STYLE, **common)),
        ("checkbox", rx.checkbox(spec["label"].to(str) | name,
                                 default_checked=default == "true", **common)),
        ("file", rx.input(type="text", placeholder="fil_… (the id POST /api/v1/files gave)",
                          width="100%", **common) if files_by_id else
         rx.input(type="file", disabled=True, width="100%", **common)),
        rx.input(type=_html_type(spec["type"]), placeholder=placeholder, default_value=default,
                 width="100%", step=rx.cond(spec["type"] == "number", "any", "1"), **common),
    )


def field_block(spec: rx.Var, *, error: rx.Var | None = None, value: rx.Var | None = None,
                on_change: OnChange | None = None, control: rx.Component | None = None,
                files_by_id: bool = False) -> rx.Component:
    """Label, control, help text and the field's own error right under it. `control`
    replaces the input (the public page's file upload)."""
    label = spec["label"].to(str) | spec["name"].to(str)
    return rx.vstack(
        rx.cond(
            spec["type"] != "checkbox",
            rx.el.label(
                label,
                rx.cond(spec["required"].to(bool),
                        rx.text(" *", as_="span", color="var(--red-10)")),
                html_for="field-" + spec["name"].to(str),
                style={"fontWeight": 500, "fontSize": "14px"},
            ),
        ),
        control if control is not None else field_control(
            spec, error=error, value=value, on_change=on_change, files_by_id=files_by_id),
        rx.cond(spec["help"], rx.text(spec["help"].to(str), size="1", color_scheme="gray")),
        *([rx.cond(error != "", rx.text(error, size="2", color="var(--red-11)",
                                         data_testid="error-" + spec["name"].to(str),
                                         role="alert"))] if error is not None else []),
        spacing="1",
        width="100%",
        align="start",
    )
