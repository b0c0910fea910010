"""Members and roles of a workspace, managed by its admins (never leaving it without one)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.clock import iso
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Role
from app.repo import accounts as accounts_repo
from app.services import accounts, permissions


@dataclass(frozen=True)
class MemberRow:
    user_id: str
    email: str
    name: str
    role: str
    joined_at: str
    is_me: bool


def list_members(session: Session, *, actor: Actor) -> list[MemberRow]:
    permissions.require(actor.role, permissions.MANAGE_MEMBERS)
    return [MemberRow(user_id=u.id, email=u.email, name=u.name, role=m.role,
                      joined_at=iso(m.created_at) or "", is_me=u.id == actor.id)
            for m, u in accounts_repo.members_of_workspace(session, actor.workspace_id)]


def _admins(session: Session, workspace_id: str) -> set[str]:
    return {u.id for m, u in accounts_repo.members_of_workspace(session, workspace_id)
            if m.role == Role.ADMIN}


def add_member(session: Session, *, actor: Actor, email: str, role: str, name: str = "",
               password: str = "") -> MemberRow:
    """Add a user by email with a role; a new email needs an initial password to create it."""
    permissions.require(actor.role, permissions.MANAGE_MEMBERS)
    clean = email.strip().lower()
    if not clean:
        raise ValidationFailed("Invalid member", errors=[FieldError("email", "is required",
                                                                    "required")])
    user = accounts_repo.user_by_email(session, clean)
    if user is not None and accounts_repo.membership(
            session, workspace_id=actor.workspace_id, user_id=user.id) is not None:
        raise Conflict(f"{clean} is already a member; change their role in the list")
    if role not in Role.ALL:
        raise ValidationFailed("Invalid member", errors=[FieldError(
            "role", f"must be one of {', '.join(Role.ALL)}")])
    if user is None:
        if not password:
            raise ValidationFailed("Invalid member", errors=[FieldError(
                "password", "nobody has this email yet: give an initial password to create "
                            "their account", "required")])
        user = accounts.create_user(session, email=clean, password=password, name=name)
    added = accounts.add_member(session, workspace_id=actor.workspace_id, user_id=user.id,
                                role=role, actor=actor)
    return MemberRow(user_id=user.id, email=user.email, name=user.name, role=added.role,
                     joined_at=iso(added.created_at) or "", is_me=False)


def change_role(session: Session, *, actor: Actor, user_id: str, role: str) -> None:
    permissions.require(actor.role, permissions.MANAGE_MEMBERS)
    existing = accounts_repo.membership(session, workspace_id=actor.workspace_id,
                                        user_id=user_id)
    if existing is None:
        raise not_found("member", user_id)
    if existing.role == Role.ADMIN and role != Role.ADMIN and \
            _admins(session, actor.workspace_id) == {user_id}:
        raise Conflict("A workspace needs at least one admin; make someone else admin first")
    accounts.add_member(session, workspace_id=actor.workspace_id, user_id=user_id, role=role,
                        actor=actor)


def remove_member(session: Session, *, actor: Actor, user_id: str) -> None:
    permissions.require(actor.role, permissions.MANAGE_MEMBERS)
    if user_id == actor.id:
        raise Conflict("You cannot remove yourself; ask another admin")
    existing = accounts_repo.membership(session, workspace_id=actor.workspace_id,
                                        user_id=user_id)
    if existing is None:
        raise not_found("member", user_id)
    accounts.remove_member(session, workspace_id=actor.workspace_id, user_id=user_id,
                           actor=actor)
