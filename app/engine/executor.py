"""The step executor: claim ready steps with a lease → run them → record each outcome.

One outcome is one transition (app/engine/transition.py decides it, app/repo/transitions.py
writes it): the step's result, the run's next step and status, approvals, child runs and
outbox events commit together, and only while this worker still holds the step's lease (a
worker that lost it has its late result refused). The next step of the run is leased to this
worker in the same commit and run at once, with the run's data carried forward in memory.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

import httpx
from sqlmodel import Session

from app import crypto
from app.clock import utcnow
from app.db import read_session, write_session
from app.engine import progress
from app.engine import steps as step_kinds
from app.engine.definition import Definition
from app.engine.group_commit import GroupCommit
from app.engine.handover import Handover
from app.engine.progress import definition_of_version
from app.engine.steps.base import (
    Fail,
    FileReader,
    ResolvedCredential,
    StepContext,
    WaitForChild,
)
from app.engine.transition import Outcome, StartChild, decide, refusal
from app.models import StepStatus
from app.models.transition import NewStep, RunState, StepState, Transition
from app.repo import credentials as credentials_repo
from app.repo import steps as steps_repo
from app.repo import transitions as transitions_repo
from app.repo import workflows as workflows_repo
from app.repo.steps import Claim, Lease
from app.repo.transitions import Stale

log = logging.getLogger(__name__)

Sessions = Callable[[], AbstractContextManager[Session]]


_Written = tuple["Work", Transition, list[Claim]]


class Work(NamedTuple):
    """A claimed step with what running it needs."""

    claim: Claim
    step: StepState
    run: RunState
    definition: Definition


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Executor:
    def __init__(
        self,
        *,
        http: httpx.Client | None,
        lease_s: float = 30.0,
        concurrency: int = 16,
        claim_batch: int = 32,
        owner: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        rand: Callable[[], float] = random.random,
        writer: Sessions = write_session,
        reader: Sessions = read_session,
        commit_batch: int = 64,
        commit_wait_s: float = 0.002,
        files: FileReader | None = None,
    ) -> None:
        """`writer`/`reader` open a write or a read session (the database by default);
        `commit_batch` outcomes at most are written per transaction, the first waiting
        `commit_wait_s` at most for others to join (app/engine/group_commit.py)."""
        self.http = http
        self.files = files  # reads uploaded files for http steps that send them
        self.lease_s = lease_s
        self.concurrency = concurrency
        self.claim_batch = claim_batch
        self.owner = owner or default_owner()
        self.clock = clock
        self.rand = rand
        self.writer = writer
        self.reader = reader
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = False
        self._inline = False  # run_until_idle(): everything runs in the caller's thread
        self.on_step_finished: Callable[[], None] = lambda: None
        self._commits: GroupCommit[tuple[Work, Outcome], Work | None] = GroupCommit(
            self._write, max_batch=commit_batch, max_wait_s=commit_wait_s,
            name="step-commits")

    # -- scheduling ---------------------------------------------------------------------

    def claim(self, limit: int) -> list[Claim]:
        with self.writer() as session:
            claims = transitions_repo.claim_ready_steps(
                session, owner=self.owner, now=self.clock(), lease_s=self.lease_s, limit=limit
            )
            session.commit()
        return claims

    def tick(self) -> int:
        """Claim as many steps as there are free slots and start them; returns how many."""
        started = 0
        while not self._stopping:
            with self._lock:
                free = self.concurrency - self._in_flight
            if free <= 0:
                break
            claims = self.claim(min(free, self.claim_batch))
            if not claims:
                break
            for claim in claims:
                self._submit(claim)
            started += len(claims)
        return started

    def _submit(self, claim: Claim) -> None:
        with self._lock:
            self._in_flight += 1
        self._start(claim)

    def _start(self, claim: Claim) -> None:
        # The claim's slot is already counted in _in_flight.
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="step"
            )
        self._pool.submit(self._run_and_release, claim)

    # -- hand-over (app/engine/handover.py) ------------------------------------------------

    def reserve(self) -> bool:
        """Hold a free slot for a step a request is about to create leased to this worker."""
        with self._lock:
            if self._stopping or self._in_flight >= self.concurrency:
                return False
            self._in_flight += 1
            return True

    def unreserve(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def take(self, claim: Claim) -> None:
        """Run a step handed over after its commit, in the slot reserved for it."""
        if not self._stopping:
            try:
                self._start(claim)
                return
            except RuntimeError:  # the pool shut down meanwhile
                pass
        self.unreserve()
        with self.writer() as session:  # due again at once, for whichever worker runs next
            transitions_repo.release_claims(session, [claim])
            session.commit()

    def _run_and_release(self, claim: Claim) -> None:
        self._commits.busy()
        try:
            self.run_claim(claim)
        except Exception:
            log.exception("step %s: executor error (the lease will expire and retry)",
                          claim.step_id)
        finally:
            self._commits.idle()
            with self._lock:
                self._in_flight -= 1
            self.on_step_finished()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def stop(self, *, wait: bool = True, timeout_s: float | None = None) -> None:
        """Claim nothing more; with `wait`, let in-flight steps finish (a drain)."""
        self._stopping = True
        pool = self._pool
        if pool is not None:
            if wait and timeout_s is not None:
                deadline = threading.Event()

                def drain() -> None:
                    pool.shutdown(wait=True)
                    deadline.set()

                waiter = threading.Thread(target=drain, daemon=True)
                waiter.start()
                deadline.wait(timeout_s)
            else:
                pool.shutdown(wait=wait)
        self._commits.stop(timeout_s)  # what is queued is written; later outcomes inline

    def run_until_idle(self, *, max_steps: int = 10_000) -> int:
        """Run every ready step inline until none is ready now (tests and the CLI); returns
        how many steps ran, the successors each one leased to this worker included."""
        done = 0
        self._inline = True
        try:
            while done < max_steps:
                claims = self.claim(self.claim_batch)
                if not claims:
                    break
                for claim in claims:
                    done += self.run_claim(claim)
        finally:
            self._inline = False
        return done

    # -- one step -------------------------------------------------------------------------

    def run_claim(self, claim: Claim) -> int:
        """Run a claimed step, then each successor this worker leased in its commit; returns
        how many steps ran."""
        work, ran = self._load(claim), 0
        while work is not None:
            work, ran = self._record(work, self._execute(work)), ran + 1
        return ran

    def _load(self, claim: Claim) -> Work | None:
        with self.reader() as session:
            loaded = steps_repo.load_claimed(session, claim)
            if loaded is None:
                return None
            step, run = loaded
            return Work(claim, step, run, definition_of_version(session, run.workflow_version_id))

    def _execute(self, work: Work) -> Outcome:
        claim, step, run, definition = work
        now = self.clock()
        refused = refusal(run, step_key=step.step_key, attempt=claim.attempt,
                          max_attempts=claim.max_attempts, definition=definition, now=now)
        if refused is not None:
            return Fail(refused, retryable=False)
        spec = definition.steps[step.step_key]
        ctx = StepContext(
            run_id=run.id,
            workspace_id=run.workspace_id,
            workflow_id=run.workflow_id,
            workflow_title=run.workflow_title,
            version_number=run.version_number,
            step_id=step.id,
            step_key=step.step_key,
            attempt=claim.attempt,
            now=now,
            run_input=run.input or {},
            outputs=run.outputs or {},
            previous_key=(step.input or {}).get("previous"),
            run_trigger=run.trigger,
            run_created_at=run.created_at,
            step_input=step.input or {},
            http=self.http,
            find_credential=lambda ref: self._credential(run.workspace_id, ref),
            read_file=(partial(self.files, run.workspace_id) if self.files is not None
                       else None),
        )
        try:
            outcome = step_kinds.execute(spec, ctx)
        except Exception as exc:  # a bug in a step kind fails the step, never the executor
            log.exception("step %s (%s) raised", step.id, step.kind)
            return Fail(f"internal error in {step.kind} step: {type(exc).__name__}",
                        retryable=False)
        if isinstance(outcome, WaitForChild):
            return self._child_of(run, outcome)
        return outcome

    def _credential(self, workspace_id: str, ref: str) -> ResolvedCredential | None:
        with self.reader() as session:
            row = credentials_repo.find_credential(session, workspace_id=workspace_id, ref=ref)
            if row is None:
                return None
            return ResolvedCredential(id=row.id, name=row.name, type=row.type,
                                      value=crypto.decrypt(row.value_encrypted),
                                      config=dict(row.config or {}))

    def _child_of(self, run: RunState, outcome: WaitForChild) -> StartChild | Fail:
        """Resolve a sub-workflow step's workflow to its published version."""
        with self.reader() as session:
            workflow = workflows_repo.get_workflow(session, outcome.workflow_id,
                                                   workspace_id=run.workspace_id)
            version = (workflows_repo.get_version_by_number(session, workflow.id,
                                                            workflow.published_number)
                       if workflow is not None and workflow.published_number else None)
            if workflow is None or version is None:
                return Fail(f"sub-workflow '{outcome.workflow_id}' has no published version",
                            retryable=False)
            return StartChild(workflow_id=workflow.id, version_id=version.id,
                              version_number=version.number, title=version.title,
                              definition=definition_of_version(session, version.id),
                              input=outcome.input)

    def _record(self, work: Work, outcome: Outcome) -> Work | None:
        """Write `outcome` under the lease and return the successor leased to this worker, to
        run next. Step threads hand their outcomes to the group commit (one transaction for
        the outcomes of many steps); inline, each is written at once."""
        if self._inline:
            return self._write([(work, outcome)])[0]
        return self._commits.submit((work, outcome))

    def _write(self, batch: Sequence[tuple[Work, Outcome]]) -> list[Work | None]:
        """One transaction for the outcomes of `batch` (runs in id order: every writer locks
        runs in the same order on PostgreSQL). A stale guard rejects only its own item (a
        savepoint); a batch whose commit fails is written again item by item."""
        now = self.clock()
        order = sorted(range(len(batch)), key=lambda i: batch[i][0].run.id)
        try:
            with Handover(None if self._inline else self) as hand, self.writer() as session:
                written = self._write_together(session, batch, order, hand=hand, now=now)
                if written is None:  # a guard failed: find the item, one savepoint each
                    written = [(i, done) for i in order if (done := self._write_one(
                        session, *batch[i], hand=hand, now=now, alone=len(batch) == 1))]
                hand.commit(session)
        except Exception:
            if len(batch) == 1:
                raise
            log.warning("group commit of %d outcomes failed; writing them one by one",
                        len(batch), exc_info=True)
            return [self._write_alone(item) for item in batch]
        results: list[Work | None] = [None] * len(batch)
        for i, (work, transition, mine) in written:
            results[i] = self._successor(work, transition, batch[i][1], mine, now)
        return results

    def _write_together(self, session: Session, batch: Sequence[tuple[Work, Outcome]],
                        order: list[int], *, hand: Handover,
                        now: datetime) -> list[tuple[int, _Written]] | None:
        """The fast path: every outcome decided, then written with one executemany per kind
        of row. None when a guard failed (rolled back: the caller goes item by item)."""
        if len(batch) == 1:
            return None
        decided = []
        for i in order:
            work, outcome = batch[i]
            own: list[Lease] = []
            transition = decide(work.run, work.step, outcome, work.definition, now=now,
                                lease_token=work.claim.token, rand=self.rand())
            decided.append((i, work, transition, own))
        applied = transitions_repo.apply_many(session, [
            (transition, partial(self._lease_for, hand=hand, own=own, now=now))
            for _, _, transition, own in decided], now=now)
        if applied.stale is not None:
            session.rollback()
            return None
        written: list[tuple[int, _Written]] = []
        taken: set[str] = set()
        for i, work, transition, own in decided:
            mine = applied.mine(own)
            taken.update(claim.token for claim in mine)
            written.append((i, (work, transition, mine)))
        hand.hold([claim for claim in applied.claims if claim.token not in taken])
        for _, _, transition, _ in decided:
            progress.resume_parent(session, transition, now=now, hand=hand)
        return written

    def _write_alone(self, item: tuple[Work, Outcome]) -> Work | None:
        try:
            return self._write([item])[0]
        except Exception:
            log.exception("step %s: its outcome could not be written (the lease will expire "
                          "and retry)", item[0].claim.step_id)
            return None

    def _write_one(self, session: Session, work: Work, outcome: Outcome, *, hand: Handover,
                   now: datetime, alone: bool) -> _Written | None:
        """Decide and apply one outcome in the batch's transaction. A run changed meanwhile
        (cancelled, say) is read again and the outcome decided once more on it."""
        for _ in range(3):
            transition = decide(work.run, work.step, outcome, work.definition, now=now,
                                lease_token=work.claim.token, rand=self.rand())
            own: list[Lease] = []
            savepoint = None if alone else session.begin_nested()
            applied = transitions_repo.apply(
                session, transition, now=now,
                lease_for=partial(self._lease_for, hand=hand, own=own, now=now))
            if applied.stale is not None:
                if savepoint is not None:
                    savepoint.rollback()
                else:
                    session.rollback()
                if applied.stale is not Stale.RUN:
                    log.warning("step %s: lease lost, result of attempt %s discarded",
                                work.claim.step_id, work.claim.attempt)
                    return None
                reread = self._load(work.claim)
                if reread is None:
                    return None
                work = reread
                continue
            mine = applied.mine(own)
            hand.hold([claim for claim in applied.claims if claim not in mine])
            progress.resume_parent(session, transition, now=now, hand=hand)
            if savepoint is not None:
                savepoint.commit()
            return work, transition, mine
        log.warning("step %s: its run kept changing; the lease will expire and retry",
                    work.claim.step_id)
        return None

    def _lease_for(self, step: NewStep, *, hand: Handover, own: list[Lease],
                   now: datetime) -> Lease | None:
        # The first new step (the run's next one, or a child run's first) is leased to this
        # worker and run at once: no claim round trip between the steps of a run (a draining
        # worker leaves it to others). Any other new step goes through the hand-over's
        # reserved slots.
        if own or self._stopping:
            return hand.lease_for(step)
        lease = Lease(owner=self.owner, token=transitions_repo.new_token(),
                      expires_at=now + timedelta(seconds=self.lease_s))
        own.append(lease)
        return lease

    def _successor(self, work: Work, transition: Transition, outcome: Outcome,
                   mine: list[Claim], now: datetime) -> Work | None:
        if not mine:
            return None
        for written, definition in ((transition, work.definition),
                                    *((child, getattr(outcome, "definition", None))
                                      for child in transition.then)):
            new, after = written.new_step, written.after
            if new is None or after is None or new.id != mine[0].step_id:
                continue
            assert definition is not None
            step = StepState(id=new.id, run_id=new.run_id, workspace_id=new.workspace_id,
                             step_key=new.step_key, kind=new.kind, seq=new.seq,
                             status=StepStatus.RUNNING, attempt=1,
                             max_attempts=new.max_attempts, input=new.input, started_at=now)
            return Work(mine[0], step, after, definition)
        return None
