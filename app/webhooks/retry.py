"""The webhook retry ladder and Retry-After parsing: pure functions of attempt and clock."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Delay after failed attempt n is RETRY_LADDER_S[n - 1]; the ladder sums to about 22 h.
RETRY_LADDER_S: tuple[float, ...] = (1, 5, 25, 120, 600, 3600, 3600 * 3, 3600 * 6, 3600 * 12)
MAX_ATTEMPTS = len(RETRY_LADDER_S) + 1
# No attempt is made later than this after the first one.
RETRY_WINDOW_S = 24 * 3600.0
# A receiver may ask us to wait longer than the ladder, but not forever.
RETRY_AFTER_CAP_S = 3600.0


def next_delay_s(
    attempt: int,
    *,
    scale: float = 1.0,
    retry_after_s: float | None = None,
    elapsed_s: float = 0.0,
) -> float | None:
    """Seconds to wait after failed attempt `attempt` (1-based), or None to give up.

    `scale` shrinks the ladder and the 24 h window (tests use 0.01); a `Retry-After` longer
    than the ladder's step wins, capped at an hour and not scaled, since the receiver asked
    for it. `elapsed_s` (time since the first attempt) keeps every attempt inside the window.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    if attempt > len(RETRY_LADDER_S):
        return None
    delay = RETRY_LADDER_S[attempt - 1] * scale
    if retry_after_s is not None and retry_after_s > delay:
        delay = min(retry_after_s, RETRY_AFTER_CAP_S)
    remaining = RETRY_WINDOW_S * scale - elapsed_s
    if remaining <= 0:
        return None
    return min(delay, remaining)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP-date), None if unusable.

    A date in the past means "now" (0.0); a naive `now` is taken as UTC.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    seconds = (_as_utc(when) - _as_utc(now)).total_seconds()
    return max(seconds, 0.0)


def _as_utc(value: datetime) -> datetime:
    # HTTP-dates in asctime form parse as naive; they are GMT by definition.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
