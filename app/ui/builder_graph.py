"""The builder's graph: a raw workflow definition (DESIGN §3's JSON) as canvas nodes and edges,
and the edits the canvas and side panel make to it.

Pure functions over plain JSON (no Reflex, no database, no engine imports): every edit returns a
new definition and leaves its argument untouched, so the state can compare, undo or discard.
Validation is not done here: the state asks the workflow service, which uses the API's rules.
"""

from __future__ import annotations

import copy
import json
import re
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

# Node geometry on the canvas (pixels); the JSX node is NODE_WIDTH wide.
NODE_WIDTH = 220
ROW_GAP_PX = 150
COLUMN_GAP_PX = 260
END = "end"
STEP_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STEP_PATH = re.compile(r"^steps\.([A-Za-z0-9_-]+)(.*)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# kind → (label, lucide icon name, one-line hint); the palette shows them in this order.
KINDS: dict[str, tuple[str, str, str]] = {
    "input": ("Input", "file-input", "Fields a trigger or form supplies"),
    "http": ("HTTP request", "globe", "Call a URL with templated headers and body"),
    "tool": ("Tool", "wrench", "Run a registered function (set, log, …)"),
    "branch": ("Branch", "git-branch", "First matching condition wins"),
    "approval": ("Approval", "user-check", "Wait for a person to approve or reject"),
    "signal": ("Signal", "radio-tower", "Wait for an external POST …/ready"),
    "delay": ("Delay", "timer", "Wait for a duration or until a time"),
    "subworkflow": ("Subworkflow", "workflow", "Run another published workflow"),
}

# What each kind leaves in `steps.<key>` for later templates (tools vary: see tool_outputs).
KIND_OUTPUTS: dict[str, tuple[str, ...]] = {
    "http": ("status", "body", "headers"),
    "branch": ("matched", "condition", "next"),
    "approval": ("decision", "by", "comment", "decided_at"),
    "signal": ("signalled", "payload", "by"),
    "delay": ("waited_until",),
}
TOOL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "log": ("message",),
    "sleep": ("slept_s",),
    "echo": ("args", "input"),
}


def new_step(kind: str) -> dict[str, Any]:
    """A fresh step of a kind with its required properties present but to be filled in."""
    label = KINDS[kind][0]
    defaults: dict[str, dict[str, Any]] = {
        "input": {"fields": []},
        "http": {"method": "GET", "url": ""},
        "tool": {"tool": "set", "args": {}},
        "branch": {"branches": [{"if": "", "then": None}]},
        "approval": {"assignees": ["role:approver"], "instructions": ""},
        "signal": {"instructions": ""},
        "delay": {"duration": "1h"},
        "subworkflow": {"workflow_id": ""},
    }
    return {"kind": kind, "title": label, **copy.deepcopy(defaults[kind])}


def steps_of(definition: Mapping[str, Any]) -> dict[str, Any]:
    steps = definition.get("steps")
    return steps if isinstance(steps, dict) else {}


def unique_key(kind: str, existing: Iterable[str]) -> str:
    taken = set(existing)
    if kind not in taken:
        return kind
    number = 2
    while f"{kind}_{number}" in taken:
        number += 1
    return f"{kind}_{number}"


# ---------------------------------------------------------------- ports and edges


def ports(step: Mapping[str, Any]) -> list[dict[str, str]]:
    """The outgoing connection points of a step: id (what an edge from it sets) and label."""
    kind = step.get("kind")
    if kind == "branch":
        branches = step.get("branches") if isinstance(step.get("branches"), list) else []
        found = [
            {"id": f"branch:{i}", "label": _condition_label(b)} for i, b in enumerate(branches)
        ]
        return [*found, {"id": "else", "label": "else"}, {"id": "branch:new", "label": "+ if"}]
    if kind == "approval":
        return [{"id": "next", "label": "approved"}, {"id": "on_reject", "label": "rejected"}]
    return [{"id": "next", "label": "next"}]


def _condition_label(branch: Any) -> str:
    condition = branch.get("if") if isinstance(branch, Mapping) else None
    text = condition.strip() if isinstance(condition, str) else ""
    if not text:
        return "if …"
    return f"if {text}" if len(text) <= 36 else f"if {text[:35]}…"


def port_target(step: Mapping[str, Any], port: str) -> Any:
    if port.startswith("branch:"):
        index = port.split(":", 1)[1]
        branches = step.get("branches")
        if not index.isdigit() or not isinstance(branches, list):
            return None
        i = int(index)
        branch = branches[i] if i < len(branches) else None
        return branch.get("then") if isinstance(branch, Mapping) else None
    return step.get(port)


def _edge_label(step: Mapping[str, Any], port: dict[str, str]) -> str:
    return "" if port["id"] == "next" and step.get("kind") != "approval" else port["label"]


def to_edges(definition: Mapping[str, Any], problem_steps: Iterable[str] = ()) -> list[dict]:
    """React Flow edges for every link between two existing steps (an edge to `end` is none)."""
    steps = steps_of(definition)
    edges = []
    for key, step in steps.items():
        if not isinstance(step, Mapping):
            continue
        for port in ports(step):
            target = port_target(step, port["id"])
            if not isinstance(target, str) or target not in steps:
                continue
            label = _edge_label(step, port)
            edge: dict[str, Any] = {
                "id": edge_id(key, port["id"]),
                "source": key,
                "sourceHandle": port["id"],
                "target": target,
                "type": "smoothstep",
                "label": label,
                "data": {"port": port["id"]},
            }
            if port["id"] == "on_reject":
                edge["className"] = "fd-edge-reject"
            elif port["id"] == "else":
                edge["className"] = "fd-edge-else"
            edges.append(edge)
    return edges


def edge_id(source: str, port: str) -> str:
    return f"{source}>{port}"


def split_edge_id(ident: str) -> tuple[str, str]:
    source, _, port = ident.rpartition(">")
    return source, port


# ---------------------------------------------------------------- nodes and layout


def problems_by_step(problems: Iterable[Mapping[str, str]]) -> dict[str, list[str]]:
    """Validation problems (dotted `field` paths) grouped by the step they point into."""
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        key, rest = step_of_path(str(problem.get("field", "")))
        if key is None:
            continue
        where = rest.lstrip(".")
        message = str(problem.get("message", ""))
        grouped.setdefault(key, []).append(f"{where}: {message}" if where else message)
    return grouped


def step_of_path(path: str) -> tuple[str | None, str]:
    """(`route`, `.branches[0].then`) for `steps.route.branches[0].then`; (None, path) else."""
    path = path.removeprefix("definition.")
    match = _STEP_PATH.match(path)
    return (match.group(1), match.group(2)) if match else (None, path)


def positions(definition: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Every step's position: its saved `layout`, else a layered layout from the start step."""
    steps = steps_of(definition)
    saved = definition.get("layout") if isinstance(definition.get("layout"), Mapping) else {}
    placed = {k: _point(saved.get(k)) for k in steps if _point(saved.get(k)) is not None}
    missing = [k for k in steps if k not in placed]
    if missing:
        auto = auto_layout(definition)
        for key in missing:
            placed[key] = _free_spot(auto[key], placed.values())
    return placed  # type: ignore[return-value]


def _point(value: Any) -> dict[str, float] | None:
    if isinstance(value, Mapping):
        x, y = value.get("x"), value.get("y")
        if isinstance(x, int | float) and isinstance(y, int | float):
            return {"x": float(x), "y": float(y)}
    return None


def _free_spot(wanted: dict[str, float], taken: Iterable[dict[str, float]]) -> dict[str, float]:
    spots = list(taken)
    point = dict(wanted)
    while any(abs(p["x"] - point["x"]) < NODE_WIDTH and abs(p["y"] - point["y"]) < 80
              for p in spots):
        point["x"] += COLUMN_GAP_PX
    return point


def successors(step: Mapping[str, Any], steps: Mapping[str, Any]) -> list[str]:
    found = []
    for port in ports(step):
        target = port_target(step, port["id"])
        if isinstance(target, str) and target in steps and target not in found:
            found.append(target)
    return found


def auto_layout(definition: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Rows by breadth-first depth from the start; unreachable steps in a row of their own."""
    steps = steps_of(definition)
    start = definition.get("start")
    depth: dict[str, int] = {}
    if isinstance(start, str) and start in steps:
        depth[start] = 0
        queue = deque([start])
        while queue:
            key = queue.popleft()
            step = steps[key]
            for target in successors(step, steps) if isinstance(step, Mapping) else []:
                if target not in depth:
                    depth[target] = depth[key] + 1
                    queue.append(target)
    last = max(depth.values(), default=-1) + 1
    rows: dict[int, list[str]] = {}
    for key in steps:
        rows.setdefault(depth.get(key, last), []).append(key)
    placed = {}
    for row, keys in rows.items():
        width = (len(keys) - 1) * COLUMN_GAP_PX
        for i, key in enumerate(keys):
            placed[key] = {"x": float(i * COLUMN_GAP_PX - width / 2), "y": float(row * ROW_GAP_PX)}
    return placed


def to_nodes(definition: Mapping[str, Any], problems: Mapping[str, list[str]],
             selected: str = "") -> list[dict[str, Any]]:
    """React Flow nodes (custom type `step`) with what the JSX node draws in `data`."""
    steps = steps_of(definition)
    where = positions(definition)
    start = definition.get("start")
    nodes = []
    for key, step in steps.items():
        raw = step if isinstance(step, Mapping) else {}
        kind = raw.get("kind") if isinstance(raw.get("kind"), str) else "?"
        title = raw.get("title") if isinstance(raw.get("title"), str) and raw.get("title") else key
        nodes.append({
            "id": key,
            "type": "step",
            "position": where[key],
            "selected": key == selected,
            "data": {
                "key": key,
                "kind": kind,
                "title": title,
                "start": key == start,
                "done": bool(raw.get("done")),
                "problems": problems.get(key, []),
                "ports": ports(raw),
            },
        })
    return nodes


# ---------------------------------------------------------------- edits


def _copy(definition: Mapping[str, Any]) -> dict[str, Any]:
    fresh = copy.deepcopy(dict(definition))
    if not isinstance(fresh.get("steps"), dict):
        fresh["steps"] = {}
    return fresh


def add_step(definition: Mapping[str, Any], kind: str,
             after: str | None = None) -> tuple[dict[str, Any], str]:
    """Add a step of `kind`; placed below `after` and linked from its free `next`, if any."""
    if kind not in KINDS:
        raise ValueError(f"unknown step kind '{kind}'")
    fresh = _copy(definition)
    steps = fresh["steps"]
    key = unique_key(kind, steps)
    where = positions(fresh)
    if after in steps and after in where:
        wanted = {"x": where[after]["x"], "y": where[after]["y"] + ROW_GAP_PX}
    else:
        lowest = max((p["y"] for p in where.values()), default=-ROW_GAP_PX)
        wanted = {"x": 0.0, "y": lowest + ROW_GAP_PX}
    steps[key] = new_step(kind)
    layout = dict(fresh.get("layout") or {})
    layout.update({k: p for k, p in where.items() if k not in layout})
    layout[key] = _free_spot(wanted, where.values())
    fresh["layout"] = layout
    if not steps_of(definition) or not isinstance(fresh.get("start"), str) or \
            fresh.get("start") not in steps:
        fresh["start"] = key
    elif after in steps and after != key:
        previous = steps[after]
        if previous.get("kind") not in ("branch",) and not previous.get("done") and \
                not isinstance(previous.get("next"), str):
            previous["next"] = key
    return fresh, key


def connect(definition: Mapping[str, Any], source: str, port: str,
            target: str | None) -> dict[str, Any]:
    """Point a port of `source` at `target` (None or "end" ends the run there)."""
    fresh = _copy(definition)
    step = fresh["steps"].get(source)
    if not isinstance(step, dict):
        raise ValueError(f"no step '{source}'")
    if target == "":
        target = None
    if port in ("next", "else", "on_reject"):
        if target is None:
            step.pop(port, None)
        else:
            step[port] = target
            if port == "next":
                step.pop("done", None)
        return fresh
    if not port.startswith("branch:"):
        raise ValueError(f"unknown port '{port}'")
    branches = step.get("branches")
    if not isinstance(branches, list):
        branches = step["branches"] = []
    index = port.split(":", 1)[1]
    if index == "new":
        branches.append({"if": "", "then": target})
    elif index.isdigit() and int(index) < len(branches) and isinstance(branches[int(index)],
                                                                       dict):
        branches[int(index)]["then"] = target
    else:
        raise ValueError(f"unknown port '{port}'")
    return fresh


def disconnect(definition: Mapping[str, Any], ident: str) -> dict[str, Any]:
    source, port = split_edge_id(ident)
    if source not in steps_of(definition):
        return _copy(definition)
    return connect(definition, source, port, None)


def reconnect(definition: Mapping[str, Any], ident: str, source: str, port: str,
              target: str) -> dict[str, Any]:
    """Move an existing edge (either end dragged elsewhere)."""
    return connect(disconnect(definition, ident), source, port, target)


def _retarget(step: dict[str, Any], old: str, new: str | None) -> None:
    for name in ("next", "else", "on_reject"):
        if step.get(name) == old:
            if new is None:
                step.pop(name)
            else:
                step[name] = new
    branches = step.get("branches")
    for branch in branches if isinstance(branches, list) else []:
        if isinstance(branch, dict) and branch.get("then") == old:
            branch["then"] = new


def remove_step(definition: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Delete a step and every link to it; the start moves to the first remaining step."""
    fresh = _copy(definition)
    fresh["steps"].pop(key, None)
    for step in fresh["steps"].values():
        if isinstance(step, dict):
            _retarget(step, key, None)
    if isinstance(fresh.get("layout"), dict):
        fresh["layout"].pop(key, None)
    if fresh.get("start") == key:
        fresh["start"] = next(iter(fresh["steps"]), "")
    return fresh


def rename_step(definition: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """Give a step a new key, following every link, the layout and the start."""
    new = new.strip()
    steps = steps_of(definition)
    if old not in steps:
        raise ValueError(f"no step '{old}'")
    if new == old:
        return _copy(definition)
    if not STEP_KEY_PATTERN.fullmatch(new):
        raise ValueError("a step key is 1-64 letters, digits, '_' or '-'")
    if new in steps or new == END:
        raise ValueError(f"the key '{new}' is taken")
    fresh = _copy(definition)
    fresh["steps"] = {new if k == old else k: v for k, v in fresh["steps"].items()}
    for step in fresh["steps"].values():
        if isinstance(step, dict):
            _retarget(step, old, new)
    if isinstance(fresh.get("layout"), dict) and old in fresh["layout"]:
        fresh["layout"][new] = fresh["layout"].pop(old)
    if fresh.get("start") == old:
        fresh["start"] = new
    return fresh


def move_step(definition: Mapping[str, Any], key: str, x: float, y: float) -> dict[str, Any]:
    fresh = _copy(definition)
    layout = dict(fresh.get("layout") or {})
    layout[key] = {"x": round(float(x), 1), "y": round(float(y), 1)}
    fresh["layout"] = layout
    return fresh


def update_step(definition: Mapping[str, Any], key: str, **values: Any) -> dict[str, Any]:
    """Set properties of a step; a value of None removes the property."""
    fresh = _copy(definition)
    step = fresh["steps"].get(key)
    if not isinstance(step, dict):
        raise ValueError(f"no step '{key}'")
    for name, value in values.items():
        if value is None:
            step.pop(name, None)
        else:
            step[name] = value
    return fresh


# ---------------------------------------------------------------- template names


def predecessors(definition: Mapping[str, Any], key: str) -> list[str]:
    """Steps that can run before `key` on some path from the start, in breadth-first order."""
    steps = steps_of(definition)
    start = definition.get("start")
    if not isinstance(start, str) or start not in steps or key not in steps:
        return []
    reverse: dict[str, list[str]] = {k: [] for k in steps}
    for source, step in steps.items():
        for target in successors(step, steps) if isinstance(step, Mapping) else []:
            reverse[target].append(source)
    seen: list[str] = []
    queue = deque(reverse[key])
    while queue:
        item = queue.popleft()
        if item not in seen and item != key:
            seen.append(item)
            queue.extend(reverse[item])
    order = list(auto_layout(definition))
    return sorted(seen, key=lambda k: order.index(k) if k in order else len(order))


def _member(base: str, name: str) -> str:
    return f"{base}.{name}" if _IDENTIFIER.match(name) else f"{base}[{json.dumps(name)}]"


def template_names(definition: Mapping[str, Any], key: str) -> list[str]:
    """The names a template in step `key` can use: input fields, earlier steps' outputs, run."""
    steps = steps_of(definition)
    start = definition.get("start")
    names: list[str] = []
    first = steps.get(start) if isinstance(start, str) else None
    if isinstance(first, Mapping) and first.get("kind") == "input":
        for spec in first.get("fields") or []:
            if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
                names.append(_member("input", spec["name"]))
    for earlier in predecessors(definition, key):
        step = steps[earlier]
        base = _member("steps", earlier)
        kind = step.get("kind") if isinstance(step, Mapping) else None
        outputs: Iterable[str] = KIND_OUTPUTS.get(str(kind), ())
        if kind == "input":
            outputs = [f["name"] for f in step.get("fields") or [] if isinstance(f, Mapping)]
        elif kind == "tool":
            args = step.get("args") if isinstance(step.get("args"), Mapping) else {}
            outputs = TOOL_OUTPUTS.get(str(step.get("tool")), tuple(args))
        names.append(base)
        names.extend(_member(base, str(name)) for name in outputs)
    names += ["result", "run.id", "run.trigger", "workflow.title"]
    return names


def as_json(definition: Mapping[str, Any]) -> str:
    return json.dumps(definition, indent=2, ensure_ascii=False)
