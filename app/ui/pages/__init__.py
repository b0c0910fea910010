"""Pages. Every module here that defines `register(app)` adds its pages (see docs/ui.md)."""

from __future__ import annotations

import importlib
import pkgutil

import reflex as rx


def register_all(app: rx.App) -> None:
    """Import each page module and let it add its routes (no shared list to edit)."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(app)
