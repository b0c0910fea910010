"""What each workspace role may do; pages and services ask here instead of comparing roles."""

from __future__ import annotations

from app.errors import Forbidden
from app.models import Role

# capability → roles that have it
DECIDE_APPROVALS = "approvals:decide"
OPERATE_RUNS = "runs:operate"  # cancel a run, retry or skip a failed step, trigger from the UI
BUILD = "workflows:build"  # edit and publish workflows and forms
SEE_SETTINGS = "settings:see"  # API keys, webhooks, credentials
MANAGE_MEMBERS = "members:manage"
SHARE_APPROVAL_LINKS = "approvals:share_links"  # make a signed link for another approver

_GRANTS: dict[str, frozenset[str]] = {
    DECIDE_APPROVALS: frozenset({Role.ADMIN, Role.APPROVER}),
    OPERATE_RUNS: frozenset({Role.ADMIN, Role.BUILDER}),
    BUILD: frozenset({Role.ADMIN, Role.BUILDER}),
    SEE_SETTINGS: frozenset({Role.ADMIN, Role.BUILDER}),
    MANAGE_MEMBERS: frozenset({Role.ADMIN}),
    SHARE_APPROVAL_LINKS: frozenset({Role.ADMIN}),
}

_MESSAGES: dict[str, str] = {
    DECIDE_APPROVALS: "Only approvers and admins can decide approvals",
    OPERATE_RUNS: "Only builders and admins can cancel, retry or skip runs",
    BUILD: "Only builders and admins can change workflows and forms",
    SEE_SETTINGS: "Only builders and admins can open settings",
    MANAGE_MEMBERS: "Only admins can manage members",
    SHARE_APPROVAL_LINKS: "Only admins can make approval links for others",
}


def can(role: str | None, capability: str) -> bool:
    return role is not None and role in _GRANTS.get(capability, frozenset())


def require(role: str | None, capability: str) -> None:
    """Raise Forbidden (with a sentence a person can read) when the role lacks it."""
    if not can(role, capability):
        raise Forbidden(_MESSAGES.get(capability, "You are not allowed to do this"))


def capabilities(role: str | None) -> list[str]:
    return sorted(c for c in _GRANTS if can(role, c))
