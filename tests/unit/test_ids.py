"""Ids sort by the order they were made, even many to one millisecond."""

from __future__ import annotations

from app.models.base import new_id


def test_ids_made_in_one_millisecond_still_sort_in_the_order_made() -> None:
    ids = [new_id("run") for _ in range(2000)]  # far more than one millisecond holds
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == len("run_") + 26 for i in ids)
