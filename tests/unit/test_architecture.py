"""Imports point down the dependency chain only (STYLE.md): a wrong-way arrow fails here."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

# Each layer may import the layers listed for it (and itself); anything else is a wrong way.
LOWER = ["settings", "clock", "errors", "crypto", "wakeup", "db", "migrations", "models", "repo"]
ALLOWED: dict[str, set[str]] = {
    "settings": set(),
    "clock": set(),
    "errors": set(),
    "crypto": {"settings"},
    "wakeup": set(),
    "db": {"settings"},
    "migrations": {"db", "settings"},
    "models": {"clock", "models"},
    "repo": {"clock", "models", "wakeup", "repo"},
    # The address guard is shared outbound infrastructure; the http step catches its refusal.
    "engine": {*LOWER, "engine", "webhooks.address_guard"},
    # Group commit is shared write machinery (pure threading, no app imports): the dispatcher
    # records its attempts with it as the executor records its steps.
    "webhooks": {*LOWER, "webhooks", "engine.group_commit"},
    # Outbound email: SMTP and templates, knowing nothing of approvals or the database.
    "mail": {"settings", "mail"},
    # File storage and the pure checks on uploaded bytes, knowing nothing of the database.
    "files": {"settings", "files"},
    "services": {*LOWER, "engine", "webhooks", "mail", "files", "services"},
    "api": {*LOWER, "engine", "webhooks", "services", "api"},
    "ui": {*LOWER, "engine", "services", "ui"},
    # The MCP server answers in the REST API's shapes, pages, waits and counts calls as it does.
    "mcp": {*LOWER, "engine", "services", "api.schemas", "api.pagination", "api.waiting",
            "api.limits", "mcp"},
}


def _layer(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else module


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return [name for name in found if name == "app" or name.startswith("app.")]


def _allowed(layer: str, target: str) -> bool:
    permitted = ALLOWED[layer]
    parts = target.split(".")[1:]
    return any(".".join(parts[:n]) in permitted for n in range(1, len(parts) + 1))


def test_every_import_points_down_the_chain() -> None:
    wrong: list[str] = []
    for path in APP.rglob("*.py"):
        relative = path.relative_to(APP.parent).with_suffix("")
        module = ".".join(relative.parts)
        layer = _layer(module)
        if layer not in ALLOWED:
            continue  # app.py, cli.py, worker.py, scheduler.py wire everything together
        for target in _imports(path):
            if target != "app" and not _allowed(layer, target):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


# The one module that writes a run's or a step's status (and the one that builds a detached
# run, never added to a session, as the answer of a trigger).
STATUS_WRITERS = {"repo/transitions.py"}
RUN_BUILDERS = {"repo/transitions.py", "repo/runs.py"}
RUN_TABLES = {"Run", "StepRun"}
# `x.status = …` is fine on these: Reflex states, the client's error, approvals, workflows.
OTHER_STATUS_OWNERS = {"self", "approval", "workflow"}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and node.attr == "__table__":
        return _name(node.value)
    return None


def _status_writes(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.id if isinstance(func, ast.Name) else None
            if called in {"update", "insert"} and node.args and _name(node.args[0]) in RUN_TABLES:
                found.append(f"{where}:{node.lineno} {called}({_name(node.args[0])})")
            if called in RUN_TABLES and where not in RUN_BUILDERS:
                found.append(f"{where}:{node.lineno} builds a {called}")
            if (isinstance(func, ast.Attribute) and func.attr in {"update", "insert"}
                    and _name(func.value) in RUN_TABLES and isinstance(func.value, ast.Attribute)):
                found.append(f"{where}:{node.lineno} {_name(func.value)}.__table__.{func.attr}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Attribute) and target.attr == "status"
                        and _name(target.value) not in OTHER_STATUS_OWNERS):
                    found.append(f"{where}:{node.lineno} assigns .status")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = " ".join(node.value.lower().split())
            if any(f"update {table}" in text or f"insert into {table}" in text
                   for table in ("run ", "step_run ")):
                found.append(f"{where}:{node.lineno} writes runs in raw SQL")
    return found


def test_only_the_transition_apply_writes_run_and_step_statuses() -> None:
    found = [hit for path in APP.rglob("*.py")
             if (where := path.relative_to(APP).as_posix()) not in STATUS_WRITERS
             for hit in _status_writes(path.read_text(), where)]
    assert found == [], "status written outside app/repo/transitions.py:\n" + "\n".join(found)


def test_the_status_check_sees_a_hand_written_update() -> None:
    # The check above must be able to fail: each shape it looks for is caught here.
    source = ("from sqlalchemy import update\n"
              "def f(session, run, step):\n"
              "    session.exec(update(Run).values(status='COMPLETED'))\n"
              "    session.exec(StepRun.__table__.update())\n"
              "    run.status = 'CANCELLED'\n"
              "    session.add(StepRun(id='x'))\n"
              "    session.exec(text('UPDATE step_run SET status = 1'))\n")
    found = _status_writes(source, "services/sample.py")
    assert len(found) == 5, found
