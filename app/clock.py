"""The one clock: naive UTC datetimes everywhere (stored, compared and serialised as UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def iso(value: datetime | None) -> str | None:
    """Serialise a stored (naive UTC) datetime as RFC 3339 with a Z."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


def as_utc_naive(value: datetime) -> datetime:
    """Accept an aware or naive datetime from outside and store it as naive UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)
