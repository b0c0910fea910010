"""The session's connection, for the prebuilt Core statements of hot paths."""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlmodel import Session


def flushed_connection(session: Session) -> Connection:
    """The session's connection after writing out what the session holds (as the ORM's
    autoflush would before a query): a Core read then sees rows added earlier in the same
    transaction."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    return session.connection()
