"""Group commit: when a batch is flushed, and what each waiting producer gets back."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from app.engine.group_commit import GroupCommit


class Writer:
    def __init__(self, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[str] = set()
        self.fail_on = fail_on

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.threads.add(threading.current_thread().name)
        if self.fail_on in items:
            raise RuntimeError("the database went away")
        return [item * 10 for item in items]


def produce(commits: GroupCommit[int, int], items: list[int]) -> dict[int, int | str]:
    """One thread per item, all busy first (as step threads are), then submitting."""
    results: dict[int, int | str] = {}
    started = threading.Barrier(len(items))

    def one(item: int) -> None:
        commits.busy()
        try:
            started.wait()
            results[item] = commits.submit(item)
        except RuntimeError as exc:
            results[item] = str(exc)
        finally:
            commits.idle()

    threads = [threading.Thread(target=one, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_producers_finishing_together_share_one_batch() -> None:
    writer = Writer()
    commits = GroupCommit(writer, max_batch=64, max_wait_s=1.0)
    results = produce(commits, list(range(8)))
    assert results == {i: i * 10 for i in range(8)}
    # Nobody was left busy once all had submitted, so the batch did not wait out 1 s.
    assert sum(len(batch) for batch in writer.batches) == 8
    assert len(writer.batches) < 8
    assert "MainThread" not in writer.threads  # written by the producers themselves
    commits.stop()


def test_a_full_batch_is_written_at_once() -> None:
    writer = Writer()
    commits = GroupCommit(writer, max_batch=3, max_wait_s=1.0)
    produce(commits, list(range(7)))
    assert all(len(batch) <= 3 for batch in writer.batches)
    assert sorted(i for batch in writer.batches for i in batch) == list(range(7))
    commits.stop()


def test_a_lone_producer_is_written_without_waiting_in_its_own_thread() -> None:
    writer = Writer()
    commits = GroupCommit(writer, max_batch=64, max_wait_s=5.0)
    commits.busy()
    began = time.monotonic()
    assert commits.submit(4) == 40
    commits.idle()
    assert time.monotonic() - began < 2.0  # far below the 5 s bound: nobody could join
    assert writer.threads == {threading.current_thread().name}  # no hand-off
    commits.stop()


def test_a_busy_producer_holds_a_batch_no_longer_than_the_wait() -> None:
    writer = Writer()
    commits = GroupCommit(writer, max_batch=64, max_wait_s=0.05)
    commits.busy()  # a slow step that never finishes during this test
    commits.busy()
    assert commits.submit(1) == 10
    commits.idle()
    assert writer.batches == [[1]]
    commits.stop()


def test_a_failed_batch_raises_in_each_of_its_producers() -> None:
    writer = Writer(fail_on=3)
    commits = GroupCommit(writer, max_batch=64, max_wait_s=1.0)
    results = produce(commits, [1, 2, 3])
    failed = next(batch for batch in writer.batches if 3 in batch)
    for item in failed:
        assert results[item] == "the database went away"
    commits.busy()  # the next batch is written as usual
    assert commits.submit(5) == 50
    commits.idle()
    commits.stop()


def test_after_stop_submissions_are_written_in_the_callers_thread() -> None:
    writer = Writer()
    commits = GroupCommit(writer, max_batch=64, max_wait_s=1.0)
    commits.stop()
    commits.busy()
    assert commits.submit(2) == 20
    assert writer.threads == {threading.current_thread().name}


@pytest.mark.parametrize("count", [1, 16, 64])
def test_every_item_gets_its_own_result(count: int) -> None:
    commits = GroupCommit(Writer(), max_batch=16, max_wait_s=0.002)
    assert produce(commits, list(range(count))) == {i: i * 10 for i in range(count)}
    commits.stop()


def test_stop_waits_for_the_batch_being_written() -> None:
    release = threading.Event()

    def slow(items: Sequence[int]) -> list[int]:
        release.wait(5)
        return [item * 10 for item in items]

    commits = GroupCommit(slow, max_batch=64, max_wait_s=0.0)
    results: list[int] = []
    commits.busy()
    producer = threading.Thread(target=lambda: results.append(commits.submit(7)))
    producer.start()
    time.sleep(0.05)
    stopper = threading.Thread(target=commits.stop)
    stopper.start()
    time.sleep(0.05)
    assert stopper.is_alive()  # the batch is still being written
    release.set()
    stopper.join(5)
    producer.join(5)
    assert results == [70] and not stopper.is_alive()
