"""Members and settings use cases: admins manage members; secrets are returned once."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import read_session, write_session
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models import Actor
from app.services import members, settings_admin


def test_an_admin_adds_a_new_user_who_needs_a_password(world: Any,
                                                        people: dict[str, Actor]) -> None:
    admin = people["admin"]
    with write_session() as session, pytest.raises(ValidationFailed, match="password"):
        members.add_member(session, actor=admin, email="new@acme.test", role="builder")
    with write_session() as session:
        row = members.add_member(session, actor=admin, email="New@Acme.test", role="builder",
                                 password="password-9")
    assert row.email == "new@acme.test" and row.role == "builder"
    with write_session() as session, pytest.raises(Conflict, match="already a member"):
        members.add_member(session, actor=admin, email="new@acme.test", role="viewer")


def test_the_last_admin_stays_and_cannot_remove_themselves(world: Any,
                                                           people: dict[str, Actor]) -> None:
    admin = people["admin"]
    with write_session() as session, pytest.raises(Conflict, match="at least one admin"):
        members.change_role(session, actor=admin, user_id=admin.id, role="viewer")
    with write_session() as session, pytest.raises(Conflict, match="yourself"):
        members.remove_member(session, actor=admin, user_id=admin.id)
    with write_session() as session:
        members.change_role(session, actor=admin, user_id=people["viewer"].id,
                            role="approver")
    with read_session() as session:
        roles = {r.email: r.role for r in members.list_members(session, actor=admin)}
    assert roles["viewer@acme.test"] == "approver"


def test_only_admins_manage_members(world: Any, people: dict[str, Actor]) -> None:
    with read_session() as session, pytest.raises(Forbidden):
        members.list_members(session, actor=people["approver"])


def test_a_minted_key_is_listed_by_prefix_only(world: Any, people: dict[str, Actor]) -> None:
    with write_session() as session:
        key_id, secret = settings_admin.mint_key(session, actor=people["admin"], name="HR",
                                                 scopes=["runs:read"], expiry="30")
    with read_session() as session:
        [row] = settings_admin.list_keys(session, actor=people["admin"])
    assert row.id == key_id and row.state == "active" and secret.startswith(row.prefix)
    assert secret not in repr(row)
    with write_session() as session, pytest.raises(ValidationFailed):
        settings_admin.mint_key(session, actor=people["admin"], name="", scopes=[],
                                expiry="30")
    with read_session() as session, pytest.raises(Forbidden):
        settings_admin.list_keys(session, actor=people["viewer"])


def test_a_credential_value_never_comes_back(world: Any, people: dict[str, Actor]) -> None:
    with write_session() as session:
        settings_admin.create_credential(session, actor=people["admin"], name="hr",
                                         type="bearer", value="top-secret-value")
    with read_session() as session:
        rows = settings_admin.list_credentials(session, actor=people["admin"])
    assert [r.name for r in rows] == ["hr"]
    assert "top-secret-value" not in repr(rows)
