"""The one clock: timezone-aware UTC datetimes everywhere (SQLModel stores them as UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Accept an aware or naive (taken as UTC) datetime from outside."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """RFC 3339 with milliseconds and a Z, the form every response uses."""
    if value is None:
        return None
    return as_utc(value).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
