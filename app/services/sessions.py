"""Browser sessions: an itsdangerous-signed cookie naming the user, their session epoch and
the chosen workspace. Nothing secret is inside (it is signed, not encrypted); bumping the
user's `session_epoch` invalidates every cookie they hold (sign out everywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import Session

from app.errors import Forbidden, Unauthorized, not_found
from app.models import Actor, User
from app.repo import accounts as accounts_repo
from app.services import accounts
from app.settings import get_settings

COOKIE_NAME = "flowdesk_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600
_SALT = "flowdesk/session/v1"
EXPIRED_MESSAGE = "Your session has ended; please sign in again"


@dataclass(frozen=True)
class WorkspaceChoice:
    id: str
    name: str
    role: str


@dataclass(frozen=True)
class SignedIn:
    """A page's session: the signed-in member and the workspaces they may switch to
    (primitives only); `actor` is who acts when they use a page."""

    user_id: str
    email: str
    name: str
    role: str
    workspace_id: str
    workspace_name: str
    workspaces: tuple[WorkspaceChoice, ...] = field(default=())

    @property
    def actor(self) -> Actor:
        return Actor.user(user_id=self.user_id, email=self.email, role=self.role,
                          workspace_id=self.workspace_id)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(get_settings().secret_key, salt=_SALT)


def issue_token(*, user_id: str, session_epoch: int, workspace_id: str) -> str:
    return _serializer().dumps({"u": user_id, "e": session_epoch, "w": workspace_id})


def _claims(token: str) -> dict[str, Any]:
    if not token:
        raise Unauthorized("Please sign in")
    try:
        claims = _serializer().loads(token, max_age=SESSION_MAX_AGE_S)
    except (SignatureExpired, BadSignature) as exc:
        raise Unauthorized(EXPIRED_MESSAGE) from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("u"), str):
        raise Unauthorized(EXPIRED_MESSAGE)
    return claims


def _principal(session: Session, user: User, workspace_id: str | None) -> SignedIn:
    rows = accounts_repo.memberships_of_user(session, user.id)
    choices = tuple(WorkspaceChoice(id=ws.id, name=ws.name, role=m.role) for m, ws in rows)
    if not choices:
        raise Forbidden("Your account is not a member of any workspace yet; ask an admin to "
                        "add you")
    chosen = next((c for c in choices if c.id == workspace_id), choices[0])
    return SignedIn(user_id=user.id, email=user.email, name=user.name or user.email,
                     role=chosen.role, workspace_id=chosen.id, workspace_name=chosen.name,
                     workspaces=choices)


def start_session(session: Session, *, email: str, password: str,
                  workspace_id: str | None = None) -> tuple[str, SignedIn]:
    """Check the password (throttled by accounts.sign_in) and return a new cookie value."""
    signed = accounts.sign_in(session, email=email, password=password)
    user = session.get(User, signed.user_id)
    assert user is not None
    principal = _principal(session, user, workspace_id)
    token = issue_token(user_id=user.id, session_epoch=user.session_epoch,
                        workspace_id=principal.workspace_id)
    return token, principal


def resolve(session: Session, token: str) -> SignedIn:
    """The member a cookie stands for, re-checked against the database on every call."""
    claims = _claims(token)
    user = session.get(User, claims["u"])
    if user is None or not user.is_active or user.session_epoch != claims.get("e"):
        raise Unauthorized(EXPIRED_MESSAGE)
    return _principal(session, user, claims.get("w"))


def switch_workspace(session: Session, *, token: str, workspace_id: str) -> tuple[str, SignedIn]:
    claims = _claims(token)
    current = resolve(session, token)
    if workspace_id not in {c.id for c in current.workspaces}:
        raise not_found("workspace", workspace_id)
    user = session.get(User, current.user_id)
    assert user is not None
    principal = _principal(session, user, workspace_id)
    new_token = issue_token(user_id=user.id, session_epoch=int(claims["e"]),
                            workspace_id=workspace_id)
    return new_token, principal


def sign_out_everywhere(session: Session, *, token: str) -> None:
    """Invalidate every cookie of the user (all browsers and devices)."""
    principal = resolve(session, token)
    user = session.get(User, principal.user_id)
    assert user is not None
    user.session_epoch += 1
    session.add(user)
    session.commit()
