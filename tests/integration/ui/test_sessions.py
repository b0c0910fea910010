"""Signed session cookies: issued on sign-in, re-checked on every use, ended everywhere."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import read_session, write_session
from app.errors import DomainError, NotFound, Unauthorized
from app.models import Actor
from app.services import accounts, sessions


def _start(email: str, password: str) -> tuple[str, sessions.SignedIn]:
    with write_session() as session:
        return sessions.start_session(session, email=email, password=password)


def _resolve(token: str) -> sessions.SignedIn:
    with read_session() as session:
        return sessions.resolve(session, token)


def test_a_cookie_from_sign_in_names_the_member_and_their_role(world: Any) -> None:
    token, principal = _start("approver@acme.test", "password-2")
    assert principal.role == "approver" and principal.workspace_id == world.workspace_id
    assert _resolve(token) == principal


def test_a_wrong_password_or_a_tampered_cookie_is_refused(world: Any) -> None:
    with pytest.raises(Unauthorized):
        _start("approver@acme.test", "wrong-password")
    token, _ = _start("approver@acme.test", "password-2")
    with pytest.raises(Unauthorized):
        _resolve(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(Unauthorized):
        _resolve("")


def test_an_old_cookie_expires(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    token, _ = _start("approver@acme.test", "password-2")
    monkeypatch.setattr(sessions, "SESSION_MAX_AGE_S", -1)
    with pytest.raises(Unauthorized, match="sign in again"):
        _resolve(token)


def test_signing_out_everywhere_ends_every_cookie(world: Any) -> None:
    first, _ = _start("approver@acme.test", "password-2")
    second, _ = _start("approver@acme.test", "password-2")
    with write_session() as session:
        sessions.sign_out_everywhere(session, token=first)
    for token in (first, second):
        with pytest.raises(Unauthorized):
            _resolve(token)


def test_a_removed_member_loses_the_session_at_once(world: Any) -> None:
    token, _ = _start("approver@acme.test", "password-2")
    with write_session() as session:
        accounts.remove_member(session, workspace_id=world.workspace_id,
                               user_id=world.approver_id, actor=Actor.system("tests"))
    with pytest.raises(DomainError):
        _resolve(token)


def test_switching_workspace_needs_a_membership_there(world: Any) -> None:
    system = Actor.system("tests")
    with write_session() as session:
        other = accounts.create_workspace(session, name="Other", actor=system)
    token, _ = _start("approver@acme.test", "password-2")
    with read_session() as session, pytest.raises(NotFound):
        sessions.switch_workspace(session, token=token, workspace_id=other.id)
    with write_session() as session:
        accounts.add_member(session, workspace_id=other.id, user_id=world.approver_id,
                            role="viewer", actor=system)
    with read_session() as session:
        switched, principal = sessions.switch_workspace(session, token=token,
                                                        workspace_id=other.id)
    assert principal.workspace_id == other.id and principal.role == "viewer"
    assert _resolve(switched).workspace_id == other.id
    assert {w.id for w in principal.workspaces} == {world.workspace_id, other.id}
