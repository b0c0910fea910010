"""The in-process rate-limit windows: fixed one-minute windows opened by a bucket's first hit."""

from __future__ import annotations

from app.api.limits import WINDOW_S, FixedWindows


def test_hits_count_up_within_the_window_and_name_its_end() -> None:
    windows = FixedWindows()
    assert windows.hit("read", "key:a", 3, 100.0) == (1, 100.0 + WINDOW_S)
    assert windows.hit("read", "key:a", 3, 130.0) == (2, 100.0 + WINDOW_S)


def test_a_hit_over_the_limit_still_counts() -> None:
    windows = FixedWindows()
    counts = [windows.hit("write", "key:a", 1, 10.0)[0] for _ in range(3)]
    assert counts == [1, 2, 3]


def test_a_new_window_opens_once_the_last_one_ended() -> None:
    windows = FixedWindows()
    windows.hit("read", "key:a", 3, 0.0)
    windows.hit("read", "key:a", 3, 1.0)
    assert windows.hit("read", "key:a", 3, WINDOW_S) == (1, 2 * WINDOW_S)


def test_buckets_identities_and_limits_count_apart() -> None:
    windows = FixedWindows()
    windows.hit("read", "key:a", 3, 0.0)
    assert windows.hit("write", "key:a", 3, 0.0)[0] == 1
    assert windows.hit("read", "key:b", 3, 0.0)[0] == 1
    assert windows.hit("read", "key:a", 5, 0.0)[0] == 1  # a changed limit starts afresh


def test_ended_windows_are_swept() -> None:
    windows = FixedWindows()
    windows.hit("read", "key:a", 3, 0.0)
    windows.hit("read", "key:b", 3, 2 * WINDOW_S)
    assert windows.open_windows() == 1
