"""The side panel's edits to one step: text from inputs turned into the definition's values.

Pure functions (no Reflex, no database): each takes a step dict and returns a new one, so the
builder state stays a thin layer of event handlers. What a value means is checked afterwards
by the workflow service's validation, which shows the problem on the node.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

END_CHOICE = "__end__"  # the target selects' "end the run" option
# Text inputs of the panel; "" removes the property (optional ones) or keeps "" (required).
TEXT_PROPS = ("title", "description", "url", "method", "tool", "instructions", "due_in",
              "duration", "until", "workflow_id", "credential", "mode", "remind_every",
              "escalate_after", "on_timeout")
LIST_PROPS = ("escalate_to",)  # comma-separated in the panel, a list in the definition
FLAG_PROPS = ("allow_requester", "require_comment_on_reject")  # approval policy switches
_REQUIRED_TEXT = {"url", "tool", "workflow_id", "method"}
NUMBER_PROPS = {"timeout_s": float, "quorum": int}
RETRY_PROPS = {"max_attempts": int, "backoff_s": float}
MAPPING_PROPS = ("headers", "args", "query", "input", "files")


def _copy(step: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(step))


def text_view(step: Mapping[str, Any]) -> dict[str, str]:
    """Every scalar property as the text its input shows ("" when absent)."""
    view = {name: _text(step.get(name)) for name in TEXT_PROPS}
    view["kind"] = _text(step.get("kind"))
    view["timeout_s"] = _text(step.get("timeout_s"))
    view["quorum"] = _text(step.get("quorum"))
    for name in LIST_PROPS:
        items = step.get(name)
        view[name] = ", ".join(str(i) for i in items) if isinstance(items, list) else ""
    for flag in FLAG_PROPS:
        view[flag] = "true" if step.get(flag) else ""
    retry = step.get("retry") if isinstance(step.get("retry"), Mapping) else {}
    view["max_attempts"] = _text(retry.get("max_attempts"))
    view["backoff_s"] = _text(retry.get("backoff_s"))
    for port in ("next", "else", "on_reject"):
        target = step.get(port)
        view[port] = target if isinstance(target, str) and target else END_CHOICE
    view["done"] = "true" if step.get("done") else ""
    view["body"] = body_text(step.get("body"))
    return view


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def set_text(step: Mapping[str, Any], name: str, text: str) -> dict[str, Any]:
    """A scalar property from its input's text (numbers parsed; junk kept for validation)."""
    fresh = _copy(step)
    value = text.strip() if name != "instructions" else text
    if name in LIST_PROPS:
        items = [part.strip() for part in value.split(",") if part.strip()]
        if items:
            fresh[name] = items
        else:
            fresh.pop(name, None)
        return fresh
    if name in NUMBER_PROPS or name in RETRY_PROPS:
        parsed = _number(value, (NUMBER_PROPS | RETRY_PROPS)[name])
        if name in RETRY_PROPS:
            retry = dict(fresh.get("retry") or {})
            _put(retry, name, parsed)
            fresh["retry"] = retry
            if not retry:
                fresh.pop("retry")
        else:
            _put(fresh, name, parsed)
        return fresh
    if name == "method":
        value = value.upper()
    if name == "mode" and value != "quorum":
        fresh.pop("quorum", None)  # a quorum only applies in quorum mode
    if name == "mode" and value == "any":
        value = ""  # the default: keep the definition short
    if value == "" and name not in _REQUIRED_TEXT:
        fresh.pop(name, None)
    else:
        fresh[name] = value
    return fresh


def _number(text: str, kind: type) -> Any:
    if text == "":
        return None
    try:
        return kind(float(text)) if kind is int and float(text).is_integer() else kind(text)
    except ValueError:
        return text  # the validation names the problem on the node


def _put(target: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        target.pop(name, None)
    else:
        target[name] = value


def set_target(step: Mapping[str, Any], port: str, target: str) -> dict[str, Any]:
    """next / else / on_reject from a target select (END_CHOICE ends the run there)."""
    fresh = _copy(step)
    if target in ("", END_CHOICE):
        fresh.pop(port, None)
    else:
        fresh[port] = target
        if port == "next":
            fresh.pop("done", None)
    return fresh


def set_flag(step: Mapping[str, Any], name: str, on: bool) -> dict[str, Any]:
    """A true/false property that is absent when false (its default)."""
    fresh = _copy(step)
    if on:
        fresh[name] = True
    else:
        fresh.pop(name, None)
    return fresh


def set_done(step: Mapping[str, Any], done: bool) -> dict[str, Any]:
    fresh = _copy(step)
    if done:
        fresh["done"] = True
        fresh.pop("next", None)
    else:
        fresh.pop("done", None)
    return fresh


def body_text(body: Any) -> str:
    if body is None:
        return ""
    return body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False)


def set_body(step: Mapping[str, Any], text: str) -> dict[str, Any]:
    """The http body: JSON when the text is a JSON object or list, else the text as is."""
    fresh = _copy(step)
    stripped = text.strip()
    if not stripped:
        fresh.pop("body", None)
        return fresh
    if stripped[:1] in "{[":
        try:
            fresh["body"] = json.loads(stripped)
            return fresh
        except json.JSONDecodeError:
            pass
    fresh["body"] = text
    return fresh


# ---------------------------------------------------------------- key/value rows


def entries(step: Mapping[str, Any], prop: str) -> list[dict[str, str]]:
    """A mapping property (headers, args, query, input) as rows of key and value text."""
    mapping = step.get(prop) if isinstance(step.get(prop), Mapping) else {}
    return [{"key": str(k), "value": _text(v)} for k, v in mapping.items()]


def _rebuild(step: Mapping[str, Any], prop: str, rows: list[tuple[str, Any]]) -> dict[str, Any]:
    fresh = _copy(step)
    fresh[prop] = dict(rows)
    return fresh


def add_entry(step: Mapping[str, Any], prop: str) -> dict[str, Any]:
    mapping = dict(step.get(prop) or {})
    base = {"headers": "X-Header", "args": "name", "query": "param", "input": "field",
            "files": "file"}[prop]
    key, number = base, 2
    while key in mapping:
        key, number = f"{base}_{number}", number + 1
    return _rebuild(step, prop, [*mapping.items(), (key, "")])


def set_entry_key(step: Mapping[str, Any], prop: str, index: int, key: str) -> dict[str, Any]:
    rows = list(dict(step.get(prop) or {}).items())
    key = key.strip()
    if not 0 <= index < len(rows) or not key or any(
            k == key for i, (k, _) in enumerate(rows) if i != index):
        return _copy(step)  # an empty or duplicate name would silently drop a row
    rows[index] = (key, rows[index][1])
    return _rebuild(step, prop, rows)


def set_entry_value(step: Mapping[str, Any], prop: str, index: int,
                    text: str) -> dict[str, Any]:
    rows = list(dict(step.get(prop) or {}).items())
    if not 0 <= index < len(rows):
        return _copy(step)
    old = rows[index][1]
    value: Any = text
    if not isinstance(old, str) and old is not None:
        # A number, list or object keeps its type when its JSON text is edited.
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
    rows[index] = (rows[index][0], value)
    return _rebuild(step, prop, rows)


def remove_entry(step: Mapping[str, Any], prop: str, index: int) -> dict[str, Any]:
    rows = list(dict(step.get(prop) or {}).items())
    return _rebuild(step, prop, [r for i, r in enumerate(rows) if i != index])


# ---------------------------------------------------------------- lists


def _move(items: list[Any], index: int, delta: int) -> list[Any]:
    other = index + delta
    if 0 <= index < len(items) and 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    return items


def branch_rows(step: Mapping[str, Any]) -> list[dict[str, str]]:
    branches = step.get("branches") if isinstance(step.get("branches"), list) else []
    rows = []
    for branch in branches:
        raw = branch if isinstance(branch, Mapping) else {}
        then = raw.get("then")
        rows.append({"if": _text(raw.get("if")),
                     "then": then if isinstance(then, str) and then else END_CHOICE})
    return rows


def edit_branches(step: Mapping[str, Any], action: str, index: int = 0,
                  value: str = "") -> dict[str, Any]:
    """add / remove / up / down / if (condition text) / then (target) on the ordered list."""
    fresh = _copy(step)
    branches = [b for b in fresh.get("branches") or [] if isinstance(b, dict)]
    if action == "add":
        branches.append({"if": "", "then": None})
    elif action == "remove":
        branches = [b for i, b in enumerate(branches) if i != index]
    elif action in ("up", "down"):
        branches = _move(branches, index, -1 if action == "up" else 1)
    elif action == "if" and 0 <= index < len(branches):
        branches[index]["if"] = value.strip()
    elif action == "then" and 0 <= index < len(branches):
        branches[index]["then"] = None if value in ("", END_CHOICE) else value
    fresh["branches"] = branches
    return fresh


def edit_assignees(step: Mapping[str, Any], action: str, value: str = "",
                   index: int = 0) -> dict[str, Any]:
    """add (a "role:…", "user:…" or email) / remove (by index)."""
    fresh = _copy(step)
    assignees = [a for a in fresh.get("assignees") or [] if isinstance(a, str)]
    value = value.strip()
    if action == "add" and value and value not in assignees:
        assignees.append(value)
    elif action == "remove":
        assignees = [a for i, a in enumerate(assignees) if i != index]
    fresh["assignees"] = assignees
    return fresh


# ---------------------------------------------------------------- input fields


def field_rows(fields: Any) -> list[dict[str, str]]:
    """Field specs as text rows for the fields editor (workflow input steps and forms)."""
    rows = []
    for spec in fields if isinstance(fields, list) else []:
        raw = spec if isinstance(spec, Mapping) else {}
        rows.append({
            "name": _text(raw.get("name")),
            "type": _text(raw.get("type")) or "text",
            "required": "true" if raw.get("required") else "",
            "label": _text(raw.get("label")),
            "help": _text(raw.get("help")),
            "placeholder": _text(raw.get("placeholder")),
            "options": ", ".join(str(o) for o in raw.get("options") or []),
            "show_if": _text(raw.get("show_if")),
            "page": _text(raw.get("page")) or "1",
            "max_mb": _megabytes(raw.get("max_bytes")),
            "accept": ", ".join(str(a) for a in raw.get("accept") or []),
        })
    return rows


def _megabytes(size: Any) -> str:
    if not isinstance(size, int) or isinstance(size, bool):
        return ""
    return f"{size / 1_048_576:g}"


def edit_fields(fields: Any, action: str, index: int = 0, prop: str = "",
                value: Any = None) -> list[dict[str, Any]]:
    """add / remove / up / down / set (prop to value) on a list of field specs."""
    specs = [dict(f) for f in fields or [] if isinstance(f, Mapping)]
    if action == "add":
        taken = {str(f.get("name", "")).casefold() for f in specs}
        name, number = "Field", 2
        while name.casefold() in taken:
            name, number = f"Field {number}", number + 1
        specs.append({"name": name, "type": value or "text", "required": False})
        if value == "select":
            specs[-1]["options"] = ["Option 1", "Option 2"]
    elif action == "remove":
        specs = [f for i, f in enumerate(specs) if i != index]
    elif action in ("up", "down"):
        specs = _move(specs, index, -1 if action == "up" else 1)
    elif action == "set" and 0 <= index < len(specs):
        _set_field_prop(specs[index], prop, value)
    return specs


def _set_field_prop(spec: dict[str, Any], prop: str, value: Any) -> None:
    if prop == "required":
        spec["required"] = bool(value)
    elif prop == "options":
        options = [o.strip() for o in str(value or "").split(",") if o.strip()]
        _put(spec, "options", options or None)
    elif prop == "type":
        spec["type"] = str(value)
        if value == "select" and not spec.get("options"):
            spec["options"] = ["Option 1", "Option 2"]
        elif value != "select":
            spec.pop("options", None)
        if value != "file":
            spec.pop("max_bytes", None)
            spec.pop("accept", None)
    elif prop == "accept":
        accept = [a.strip().lower() for a in str(value or "").split(",") if a.strip()]
        _put(spec, "accept", accept or None)
    elif prop == "max_mb":
        megabytes = _number(str(value or "").strip(), float)
        if isinstance(megabytes, float) and megabytes > 0:
            megabytes = max(1, int(megabytes * 1_048_576))
        _put(spec, "max_bytes", megabytes)  # anything else: the validation names it
    elif prop == "page":
        page = _number(str(value or "").strip(), int)
        _put(spec, "page", None if page == 1 else page)
    elif prop == "show_if":
        _put(spec, "show_if", str(value or "").strip() or None)
    elif prop == "name":
        spec["name"] = str(value or "").strip()
    elif prop in ("label", "help", "placeholder"):
        _put(spec, prop, str(value).strip() or None if value is not None else None)


def insert_name(text: str, name: str, *, bare: bool = False) -> str:
    """Append a template name to a value: `{{ name }}`, or the bare name in a condition."""
    piece = name if bare else "{{ " + name + " }}"
    if not text:
        return piece
    return f"{text}{'' if text.endswith((' ', '/', '(')) else ' '}{piece}"
