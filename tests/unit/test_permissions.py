"""Roles decide what members may do (the table docs/ui.md shows)."""

from __future__ import annotations

import pytest

from app.errors import Forbidden
from app.services import permissions as p


@pytest.mark.parametrize(("role", "allowed"), [
    ("admin", {p.DECIDE_APPROVALS, p.OPERATE_RUNS, p.BUILD, p.SEE_SETTINGS, p.MANAGE_MEMBERS,
               p.SHARE_APPROVAL_LINKS}),
    ("builder", {p.OPERATE_RUNS, p.BUILD, p.SEE_SETTINGS}),
    ("approver", {p.DECIDE_APPROVALS}),
    ("viewer", set()),
    ("", set()),
])
def test_each_role_has_exactly_its_capabilities(role: str, allowed: set[str]) -> None:
    assert set(p.capabilities(role)) == allowed


def test_a_missing_capability_is_refused_with_a_readable_reason() -> None:
    with pytest.raises(Forbidden, match="Only approvers and admins can decide approvals"):
        p.require("viewer", p.DECIDE_APPROVALS)
    p.require("approver", p.DECIDE_APPROVALS)
