"""Workspaces, users and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from app.clock import as_utc
from app.models import ApiKey, Membership, User, Workspace
from app.repo.connection import flushed_connection


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def membership(session: Session, *, workspace_id: str, user_id: str) -> Membership | None:
    query = select(Membership).where(
        Membership.workspace_id == workspace_id, Membership.user_id == user_id
    )
    return session.exec(query).first()


def memberships_of_user(session: Session, user_id: str) -> Sequence[tuple[Membership, Workspace]]:
    query = (
        select(Membership, Workspace)
        .join(Workspace, col(Workspace.id) == col(Membership.workspace_id))
        .where(Membership.user_id == user_id)
        .order_by(col(Workspace.name))
    )
    return session.exec(query).all()


def members_of_workspace(session: Session, workspace_id: str) -> Sequence[tuple[Membership, User]]:
    query = (
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.workspace_id == workspace_id)
        .order_by(col(User.email))
    )
    return session.exec(query).all()


def first_workspace(session: Session) -> Workspace | None:
    return session.exec(select(Workspace).order_by(col(Workspace.created_at)).limit(1)).first()


def get_workspace(session: Session, workspace_id: str) -> Workspace | None:
    return session.get(Workspace, workspace_id)


_RUN_CAP = select(Workspace.max_concurrent_runs).where(Workspace.id == bindparam("b_id"))


def own_run_cap(session: Session, workspace_id: str) -> int | None:
    """The workspace's own cap on runs in progress (None: the settings' default applies)."""
    return flushed_connection(session).execute(_RUN_CAP, {"b_id": workspace_id}).scalar()


def live_key_ids_with_scope(session: Session, workspace_id: str, scope: str,
                            now: datetime) -> list[str]:
    """The workspace's API keys, neither revoked nor expired, that hold `scope`."""
    query = select(ApiKey).where(ApiKey.workspace_id == workspace_id,
                                 col(ApiKey.revoked_at).is_(None))
    return [key.id for key in session.exec(query).all()
            if scope in (key.scopes or ()) and (key.expires_at is None
                                                 or as_utc(key.expires_at) > now)]
