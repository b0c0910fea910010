"""Background jobs of a process: the executor, the webhook dispatcher and cron schedules,
on APScheduler, woken at once by commits in this process (the interval is the safety net)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from app import pg_listener, wakeup
from app.db import write_session
from app.engine import handover
from app.engine.executor import Executor
from app.engine.tools import load_tool_modules
from app.mail.render import message_id
from app.mail.sender import sender_for_settings
from app.services import error_workflows, files, mail_outbox, notifications, retention
from app.services.approval_timers import fire_due_approval_timers
from app.services.schedules import fire_due_schedules
from app.settings import Settings, get_settings
from app.webhooks.outbound import client_for_settings

log = logging.getLogger(__name__)
# APScheduler logs every run of every job at INFO ("Running job …", "… executed successfully"):
# with a wake-up per commit that is a dozen lines per workflow run, and formatting them (Reflex
# logs through rich) took a fifth of the CPU of a run-and-wait. Its warnings (a missed run)
# and errors (a job that raised) still show.
logging.getLogger("apscheduler").setLevel(logging.WARNING)

SCHEDULES_INTERVAL_S = 5.0
FILE_PURGE_INTERVAL_S = 3600.0  # orphan uploads (services/files), expired runs (retention)
# Approval timers (reminders, escalation, timeouts) fire within this of their time.
APPROVAL_TIMERS_INTERVAL_S = 1.0
# The mailer looks for due retries this often (new emails wake it at once).
MAIL_INTERVAL_S = 2.0
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 30.0
DISPATCH_SETTLE_S = 0.02
RUNS_IN_FLIGHT = 4  # APScheduler instances of one job; the extra ones return at once


class WakeableJob:
    """An interval job that a wake-up runs again at once, never twice at the same time.

    When the work fails (the database is unreachable, say) the job backs off exponentially,
    up to BACKOFF_MAX_S, and resumes by itself once a run succeeds again.
    """

    def __init__(self, scheduler: BackgroundScheduler, job_id: str, work: Callable[[], object],
                 interval_s: float, settle_s: float = 0.0) -> None:
        self._scheduler = scheduler
        self._id = job_id
        self._work = work
        # Woken again while a run found nothing to do: wait this long before the next run, so
        # that a stream of wake-ups is handled in batches (a run that found work goes on at once).
        self._settle_s = settle_s
        self._lock = threading.Lock()
        self._running = False
        self._again = False
        self._failures = 0
        self._resume_at = 0.0
        # `_run` itself keeps the work to one thread at a time. APScheduler counts a run as
        # finished only after `_run` returned, so with one instance allowed a wake-up in
        # between was skipped ("maximum number of running instances reached", a warning
        # per wake-up under load) and its work waited for the next interval.
        scheduler.add_job(self._run, "interval", seconds=interval_s, id=job_id,
                          max_instances=RUNS_IN_FLIGHT, coalesce=True,
                          next_run_time=datetime.now(UTC))

    def _run(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
            if time.monotonic() < self._resume_at:
                return
            self._running = True
        try:
            while True:
                with self._lock:
                    self._again = False
                try:
                    busy = self._work()
                except Exception as exc:
                    self._failed(exc)
                    break
                if self._failures:
                    log.info("background job %s recovered after %d failures", self._id,
                             self._failures)
                    self._failures = 0
                with self._lock:
                    if not self._again:
                        break
                if not busy and self._settle_s:
                    time.sleep(self._settle_s)
        finally:
            with self._lock:
                self._running = False

    def _failed(self, exc: Exception) -> None:
        self._failures += 1
        pause = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (self._failures - 1))
        self._resume_at = time.monotonic() + pause
        if self._failures == 1:
            log.exception("background job %s failed; backing off", self._id)
        else:
            log.warning("background job %s failed again (%s: %s); next try in %.1f s",
                        self._id, type(exc).__name__, str(exc).splitlines()[0][:200], pause)

    def wake(self) -> None:
        with self._lock:
            if self._running:
                self._again = True
                return
        try:
            self._scheduler.modify_job(self._id, next_run_time=datetime.now(UTC))
        except Exception:  # the scheduler is shutting down
            log.debug("wake-up of %s ignored", self._id)


class Background:
    """Everything a process runs besides serving requests; one instance per process."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        load_tool_modules(self.settings.tool_modules)
        self.http = client_for_settings(self.settings)
        self.sender = sender_for_settings(self.settings)
        self.executor = Executor(http=self.http, lease_s=self.settings.lease_s,
                                 concurrency=self.settings.executor_concurrency,
                                 claim_batch=self.settings.claim_batch,
                                 files=files.read_for_step)
        self.scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"misfire_grace_time": 30})
        self._unsubscribe: list[Callable[[], None]] = []
        self.jobs: dict[str, WakeableJob] = {}
        self._listening = False

    def start(self) -> None:
        poll = self.settings.poll_interval_s
        self.jobs["executor"] = WakeableJob(self.scheduler, "executor", self.executor.tick, poll)
        self.jobs["schedules"] = WakeableJob(self.scheduler, "schedules", self._fire_schedules,
                                             SCHEDULES_INTERVAL_S)
        self.jobs["approval_timers"] = WakeableJob(
            self.scheduler, "approval_timers", self._fire_approval_timers,
            max(poll, APPROVAL_TIMERS_INTERVAL_S))
        self._start_dispatcher(poll)
        self.jobs["mailer"] = WakeableJob(self.scheduler, "mailer", self.mail,
                                          max(poll, MAIL_INTERVAL_S))
        self._unsubscribe.append(wakeup.subscribe(wakeup.MAIL, self.jobs["mailer"].wake))
        self.jobs["error_workflows"] = WakeableJob(
            self.scheduler, "error_workflows", self._start_error_workflows,
            max(poll, SCHEDULES_INTERVAL_S))
        self._unsubscribe.append(wakeup.subscribe(wakeup.FLAGGED,
                                                  self.jobs["error_workflows"].wake))
        self.jobs["file_purge"] = WakeableJob(self.scheduler, "file_purge", self._purge_files,
                                              max(poll, FILE_PURGE_INTERVAL_S))
        self.executor.on_step_finished = self.jobs["executor"].wake
        handover.set_taker(self.executor)
        self._unsubscribe.append(wakeup.subscribe(wakeup.STEPS, self.jobs["executor"].wake))
        self.scheduler.start()
        if not self.settings.is_sqlite:
            pg_listener.acquire(self.settings.database_url)
            self._listening = True
        log.info("background jobs started (executor owner %s)", self.executor.owner)

    def _start_dispatcher(self, poll: float) -> None:
        try:
            from app.webhooks.dispatcher import Dispatcher
        except ImportError:
            return
        self.dispatcher = Dispatcher.for_settings(self.settings)
        dispatcher = self.dispatcher
        # Idle (nothing sent, nothing in flight: events that no subscription wants, say), the
        # dispatcher gathers a stream of commits' events for DISPATCH_SETTLE_S before fanning
        # them out again, instead of once per commit.
        self.jobs["dispatcher"] = WakeableJob(
            self.scheduler, "dispatcher", lambda: dispatcher.tick() or dispatcher.in_flight,
            poll, settle_s=DISPATCH_SETTLE_S)
        self.dispatcher.on_delivery_finished = self.jobs["dispatcher"].wake
        self._unsubscribe.append(wakeup.subscribe(wakeup.EVENTS, self.jobs["dispatcher"].wake))

    def mail(self) -> bool:
        """Turn new events into outbox rows, then send what is due; True if it did any."""
        sender = self.sender
        busy = False
        while True:
            with write_session() as session:
                made = notifications.expand_pending(
                    session, message_id=lambda email_id: message_id(email_id, sender.mail_from))
            with write_session() as session:
                sent = mail_outbox.send_due(session, sender, public_url=self.settings.public_url,
                                            retry_scale=self.settings.mail_retry_scale)
            if not made and not sent:
                return busy
            busy = True

    def _start_error_workflows(self) -> bool:
        with write_session() as session:
            return bool(error_workflows.start_due(session, public_url=self.settings.public_url))

    @staticmethod
    def _purge_files() -> None:
        with write_session() as session:
            if removed := files.purge_orphans(session):
                log.info("removed %d uploads nothing referenced", removed)
        while True:  # RUN_RETENTION_DAYS (0: runs are kept)
            with write_session() as session:
                removed = retention.purge_expired_runs(session)
            if removed:
                log.info("removed %d finished runs past their retention", removed)
            if removed < retention.BATCH:
                return

    @staticmethod
    def _fire_approval_timers() -> None:
        with write_session() as session:
            fire_due_approval_timers(session)

    @staticmethod
    def _fire_schedules() -> None:
        with write_session() as session:
            fire_due_schedules(session)

    def stop(self, *, drain_timeout_s: float = 10.0) -> None:
        handover.set_taker(None)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._listening:
            pg_listener.release()
            self._listening = False
        self.executor.stop(wait=True, timeout_s=drain_timeout_s)
        if getattr(self, "dispatcher", None) is not None:
            self.dispatcher.stop(wait=True, timeout_s=drain_timeout_s)
        self.http.close()
        log.info("background jobs stopped")


_current: Background | None = None
_current_lock = threading.Lock()


def start_background() -> Background | None:
    """Start this process's jobs once (hot reload and several lifespans start it again)."""
    global _current
    with _current_lock:
        if _current is not None:
            return _current
        _current = Background()
        _current.start()
        return _current


def stop_background() -> None:
    global _current
    with _current_lock:
        if _current is None:
            return
        _current.stop()
        _current = None
