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
    "webhooks": {*LOWER, "webhooks"},
    "services": {*LOWER, "engine", "webhooks", "services"},
    "api": {*LOWER, "engine", "webhooks", "services", "api"},
    "ui": {*LOWER, "engine", "services", "ui"},
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
