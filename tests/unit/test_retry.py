"""Retry policy: the webhook ladder, Retry-After parsing and the step backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.engine.retry import backoff_delay_s
from app.webhooks.retry import (
    MAX_ATTEMPTS,
    RETRY_LADDER_S,
    RETRY_WINDOW_S,
    next_delay_s,
    parse_retry_after,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


# --- webhook ladder ------------------------------------------------------------------------

def test_ladder_starts_at_one_second_then_five_then_twenty_five() -> None:
    assert [next_delay_s(n) for n in (1, 2, 3)] == [1, 5, 25]


def test_ladder_follows_the_published_steps() -> None:
    delays = [next_delay_s(n) for n in range(1, MAX_ATTEMPTS)]
    assert delays == list(RETRY_LADDER_S)
    assert delays[3:6] == [120, 600, 3600]


def test_ladder_gives_up_after_the_last_step() -> None:
    assert next_delay_s(MAX_ATTEMPTS) is None


def test_whole_ladder_fits_in_twenty_four_hours() -> None:
    assert sum(RETRY_LADDER_S) <= RETRY_WINDOW_S == 24 * 3600


def test_scale_shrinks_every_step() -> None:
    assert next_delay_s(4, scale=0.01) == pytest.approx(1.2)


def test_longer_retry_after_wins_over_the_ladder() -> None:
    assert next_delay_s(1, retry_after_s=30) == 30


def test_shorter_retry_after_does_not_shorten_the_ladder() -> None:
    assert next_delay_s(5, retry_after_s=30) == 600


def test_retry_after_is_capped_at_one_hour() -> None:
    assert next_delay_s(1, retry_after_s=86400) == 3600


def test_retry_after_is_not_scaled() -> None:
    assert next_delay_s(1, scale=0.01, retry_after_s=2) == 2


def test_delay_is_cut_to_end_at_the_window() -> None:
    assert next_delay_s(9, elapsed_s=RETRY_WINDOW_S - 100) == 100


def test_no_retry_once_the_window_has_passed() -> None:
    assert next_delay_s(6, elapsed_s=RETRY_WINDOW_S) is None


def test_window_scales_with_the_ladder() -> None:
    assert next_delay_s(2, scale=0.01, elapsed_s=RETRY_WINDOW_S * 0.01) is None


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError):
        next_delay_s(0)


# --- Retry-After ---------------------------------------------------------------------------

def test_retry_after_delta_seconds() -> None:
    assert parse_retry_after("120", now=NOW) == 120.0


def test_retry_after_imf_fixdate() -> None:
    assert parse_retry_after("Sat, 01 Mar 2025 12:01:30 GMT", now=NOW) == 90.0


def test_retry_after_rfc850_date() -> None:
    assert parse_retry_after("Saturday, 01-Mar-25 12:00:10 GMT", now=NOW) == 10.0


def test_retry_after_asctime_date() -> None:
    assert parse_retry_after("Sat Mar  1 12:00:05 2025", now=NOW) == 5.0


def test_retry_after_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Sat, 01 Mar 2025 11:00:00 GMT", now=NOW) == 0.0


def test_retry_after_with_naive_now_takes_it_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Sat, 01 Mar 2025 12:01:00 GMT", now=naive) == 60.0


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "1.5", "Sat, 99 Foo 2025"])
def test_unusable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_parsed_retry_after_feeds_the_ladder() -> None:
    later = (NOW + timedelta(minutes=10)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert next_delay_s(1, retry_after_s=parse_retry_after(later, now=NOW)) == 600


# --- step backoff --------------------------------------------------------------------------

def test_backoff_without_jitter_doubles_each_attempt() -> None:
    delays = [backoff_delay_s(n, base_s=2, max_s=300, jitter=0.0) for n in (1, 2, 3, 4)]
    assert delays == [2, 4, 8, 16]


def test_backoff_is_capped_at_max() -> None:
    assert backoff_delay_s(20, base_s=2, max_s=300, jitter=0.0) == 300


def test_backoff_of_a_huge_attempt_number_stays_at_max() -> None:
    assert backoff_delay_s(10_000, base_s=2, max_s=300, jitter=0.0) == 300


def test_full_jitter_spans_zero_to_ceiling() -> None:
    low = backoff_delay_s(3, base_s=2, max_s=300, jitter=1.0, rand=lambda: 0.0)
    high = backoff_delay_s(3, base_s=2, max_s=300, jitter=1.0, rand=lambda: 0.999)
    assert low == 0.0
    assert high == pytest.approx(7.992)


def test_equal_jitter_spans_half_to_full_ceiling() -> None:
    low = backoff_delay_s(3, base_s=2, max_s=300, jitter=0.5, rand=lambda: 0.0)
    mid = backoff_delay_s(3, base_s=2, max_s=300, jitter=0.5, rand=lambda: 0.5)
    assert (low, mid) == (4.0, 6.0)


def test_backoff_is_deterministic_with_injected_rand() -> None:
    first = backoff_delay_s(5, base_s=1, max_s=60, jitter=1.0, rand=lambda: 0.25)
    again = backoff_delay_s(5, base_s=1, max_s=60, jitter=1.0, rand=lambda: 0.25)
    assert first == again == 4.0


def test_backoff_with_default_rand_stays_within_ceiling() -> None:
    for _ in range(100):
        assert 0.0 <= backoff_delay_s(4, base_s=1, max_s=60) <= 8.0


def test_backoff_rejects_jitter_outside_zero_to_one() -> None:
    with pytest.raises(ValueError):
        backoff_delay_s(1, base_s=1, max_s=60, jitter=1.5)


def test_backoff_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError):
        backoff_delay_s(0, base_s=1, max_s=60)
