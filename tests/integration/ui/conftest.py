"""Fixtures for the pages' services: a workspace with an admin, an approver and a viewer."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import write_session
from app.models import Actor, Role
from app.services import accounts

APPROVAL_FLOW: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {"kind": "input", "fields": [{"name": "Name", "type": "text",
                                                "required": True}], "next": "manager"},
        "manager": {"kind": "approval", "assignees": ["role:approver"],
                    "instructions": "Approve {{ input.Name }}", "due_in": "48h",
                    "next": "welcome"},
        "welcome": {"kind": "tool", "tool": "set", "args": {"message": "hi"}, "done": True},
    },
}


def member_of(world: Any, user_id: str, email: str, role: str) -> Actor:
    return Actor.user(user_id=user_id, email=email, role=role, workspace_id=world.workspace_id)


@pytest.fixture
def people(world: Any) -> dict[str, Actor]:
    with write_session() as session:
        viewer = accounts.create_user(session, email="viewer@acme.test", password="password-3")
    with write_session() as session:
        accounts.add_member(session, workspace_id=world.workspace_id, user_id=viewer.id,
                            role=Role.VIEWER, actor=Actor.system("tests"))
    return {
        "admin": member_of(world, world.admin_id, "admin@acme.test", Role.ADMIN),
        "approver": member_of(world, world.approver_id, "approver@acme.test", Role.APPROVER),
        "viewer": member_of(world, viewer.id, "viewer@acme.test", Role.VIEWER),
    }


@pytest.fixture
def blocked_run(world: Any) -> str:
    """A run waiting on its approval step (assigned to role:approver)."""
    run_id = world.trigger(world.publish(APPROVAL_FLOW), {"Name": "Ada"})
    world.drain()
    return run_id
