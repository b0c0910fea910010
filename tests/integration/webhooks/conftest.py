"""Fixtures of the webhook tests."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sqlite_world(sqlite_db: str) -> Any:
    """A world on SQLite only, for behaviour on the wire that no database changes."""
    from tests.support import World

    return World.create()
