"""Background jobs: a wake-up runs the job at once, wake-ups during a run coalesce into one
more run, and an idle job given a settle time gathers a stream of wake-ups into batches."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from app.scheduler import WakeableJob

INTERVAL_S = 60.0  # only wake-ups (and the first run at start) run the job in these tests


class Work:
    """Records when it runs; each run takes `run_s` and answers `busy`."""

    def __init__(self, *, busy: bool, run_s: float = 0.05) -> None:
        self.busy = busy
        self.run_s = run_s
        self.runs: list[float] = []
        self.ran = threading.Event()

    def __call__(self) -> bool:
        self.runs.append(time.monotonic())
        time.sleep(self.run_s)
        self.ran.set()
        return self.busy


@pytest.fixture
def scheduler() -> Iterator[BackgroundScheduler]:
    jobs = BackgroundScheduler(timezone=UTC)
    jobs.start()
    yield jobs
    jobs.shutdown(wait=True)


def settled(work: Work, runs: int, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(work.runs) < runs and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # and no more than that follows


def start(scheduler: BackgroundScheduler, work: Work, settle_s: float = 0.0) -> WakeableJob:
    job = WakeableJob(scheduler, "job", work, INTERVAL_S, settle_s=settle_s)
    settled(work, 1)  # the run at start
    work.runs.clear()
    return job


def gap_after_waking_during_a_run(job: WakeableJob, work: Work) -> float:
    """Wake the job, wake it again while it runs: the time between the two runs' starts."""
    job.wake()
    time.sleep(0.03)
    job.wake()
    settled(work, 2)
    first, second = work.runs
    return second - first


def test_wake_ups_during_a_run_coalesce_into_one_more_run(
        scheduler: BackgroundScheduler) -> None:
    work = Work(busy=True, run_s=0.2)
    job = start(scheduler, work)
    job.wake()
    time.sleep(0.05)
    for _ in range(5):
        job.wake()  # all while the first run is going on
    settled(work, 2)
    assert len(work.runs) == 2


def test_a_busy_job_runs_again_at_once_when_woken_during_a_run(
        scheduler: BackgroundScheduler) -> None:
    work = Work(busy=True, run_s=0.1)
    job = start(scheduler, work, settle_s=3.0)
    assert gap_after_waking_during_a_run(job, work) < 2.0  # the run time, not the settle


def test_an_idle_job_woken_during_a_run_waits_its_settle_time_first(
        scheduler: BackgroundScheduler) -> None:
    work = Work(busy=False, run_s=0.1)
    job = start(scheduler, work, settle_s=0.4)
    assert gap_after_waking_during_a_run(job, work) >= 0.1 + 0.4


def test_an_idle_job_woken_after_its_run_starts_at_once(
        scheduler: BackgroundScheduler) -> None:
    work = Work(busy=False, run_s=0.01)
    job = start(scheduler, work, settle_s=5.0)
    woken = time.monotonic()
    job.wake()
    settled(work, 1)
    assert work.runs[0] - woken < 2.0  # the settle time applies only between back-to-back runs



def test_a_wake_up_as_a_run_ends_is_never_lost(scheduler: BackgroundScheduler) -> None:
    """A wake-up after a run's work returned but before APScheduler counted that run as
    finished still runs the job. (With one instance allowed it was skipped, "maximum number
    of running instances reached", and the work waited for the next interval.) APScheduler's
    bookkeeping is slowed here so that the wake-up lands in that window every time."""
    pool = scheduler._lookup_executor("default")
    count_finished = pool._run_job_success

    def slowly(job_id: str, events: list[object]) -> None:
        time.sleep(0.2)
        count_finished(job_id, events)

    work = Work(busy=False, run_s=0.0)
    job = start(scheduler, work)
    time.sleep(0.3)
    pool._run_job_success = slowly  # type: ignore[method-assign]
    work.ran.clear()
    job.wake()
    assert work.ran.wait(2.0)
    work.ran.clear()
    time.sleep(0.05)  # the run is over; APScheduler still counts it
    job.wake()
    assert work.ran.wait(2.0), "the wake-up was dropped"
