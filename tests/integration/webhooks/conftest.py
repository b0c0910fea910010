"""Fixtures of the webhook tests."""

from __future__ import annotations

from typing import Any

import pytest

# The API fixtures (a TestClient on a real database, workspaces with keys) of the API tests.
from tests.integration.api.conftest import acme, api, globex, http  # noqa: F401


@pytest.fixture
def sqlite_world(sqlite_db: str) -> Any:
    """A world on SQLite only, for behaviour on the wire that no database changes."""
    from tests.support import World

    return World.create()
