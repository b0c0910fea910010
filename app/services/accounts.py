"""Account use cases: workspaces, users, memberships and password sign-in with throttling."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from app.clock import utcnow
from app.errors import Conflict, FieldError, RateLimited, Unauthorized, ValidationFailed, not_found
from app.models import Actor, Membership, Role, User, Workspace
from app.repo import accounts, audit
from app.services.passwords import hash_password, verify_password

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
# Sign-in throttle: after this many consecutive failures the account waits, doubling each time.
FREE_FAILURES = 5
LOCK_BASE_S = 30
LOCK_MAX_S = 900


@dataclass(frozen=True)
class SignedIn:
    user_id: str
    email: str
    name: str
    session_epoch: int


def create_workspace(session: Session, *, name: str, actor: Actor) -> Workspace:
    if not name.strip():
        raise ValidationFailed("Invalid workspace", errors=[FieldError("name", "is required",
                                                                      "required")])
    workspace = Workspace(name=name.strip())
    session.add(workspace)
    session.flush()
    audit.record(session, workspace_id=workspace.id, actor=actor, action="workspace.created",
                 resource_type="workspace", resource_id=workspace.id)
    session.commit()
    return workspace


def create_user(session: Session, *, email: str, password: str, name: str = "") -> User:
    clean = email.strip().lower()
    problems = []
    if not EMAIL_RE.match(clean):
        problems.append(FieldError("email", "is not a valid email address"))
    if len(password) < MIN_PASSWORD:
        problems.append(FieldError("password", f"must be at least {MIN_PASSWORD} characters"))
    if problems:
        raise ValidationFailed("Invalid user", errors=problems)
    if accounts.user_by_email(session, clean) is not None:
        raise Conflict(f"a user with email '{clean}' already exists")
    user = User(email=clean, name=name.strip() or clean.split("@")[0],
                password_hash=hash_password(password))
    session.add(user)
    session.commit()
    return user


def add_member(session: Session, *, workspace_id: str, user_id: str, role: str,
               actor: Actor) -> Membership:
    if role not in Role.ALL:
        raise ValidationFailed("Invalid role", errors=[FieldError(
            "role", f"must be one of {', '.join(Role.ALL)}")])
    existing = accounts.membership(session, workspace_id=workspace_id, user_id=user_id)
    if existing is not None:
        existing.role = role
        session.add(existing)
        member = existing
    else:
        member = Membership(workspace_id=workspace_id, user_id=user_id, role=role)
        session.add(member)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="member.set",
                 resource_type="user", resource_id=user_id, details={"role": role})
    session.commit()
    return member


def remove_member(session: Session, *, workspace_id: str, user_id: str, actor: Actor) -> None:
    member = accounts.membership(session, workspace_id=workspace_id, user_id=user_id)
    if member is None:
        raise not_found("member", user_id)
    session.delete(member)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="member.removed",
                 resource_type="user", resource_id=user_id)
    session.commit()


def sign_in(session: Session, *, email: str, password: str) -> SignedIn:
    """Check a password; repeated failures lock the account for a growing while."""
    user = accounts.user_by_email(session, email)
    now = utcnow()
    if user is None or not user.is_active:
        verify_password(password, hash_password("timing-equaliser"))
        raise Unauthorized("Wrong email or password")
    if user.locked_until is not None and user.locked_until > now:
        wait = int((user.locked_until - now).total_seconds()) + 1
        raise RateLimited(f"Too many failed sign-ins; try again in {wait} s",
                          extra={"retry_after": wait})
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        over = user.failed_logins - FREE_FAILURES
        if over >= 0:
            user.locked_until = now + timedelta(seconds=min(LOCK_MAX_S, LOCK_BASE_S * 2**over))
        session.add(user)
        session.commit()
        raise Unauthorized("Wrong email or password")
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    session.commit()
    return SignedIn(user_id=user.id, email=user.email, name=user.name,
                    session_epoch=user.session_epoch)
