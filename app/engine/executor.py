"""The step executor: claim ready steps with a lease → run them → commit each outcome.

One outcome is one transaction: the step's result, the run's next step and status, approvals,
child runs and outbox events commit together, and only while this worker still holds the
step's lease (a worker that lost it has its late result refused).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import httpx
from sqlmodel import Session

from app import crypto
from app.clock import utcnow
from app.db import read_session, write_session
from app.engine import steps as step_kinds
from app.engine.definition import Definition, input_fields
from app.engine.fields import validate_data
from app.engine.progress import (
    block_run,
    definition_of_version,
    emit_run_event,
    flag_run,
    max_attempts_of,
    record_step_done,
    start_run,
)
from app.engine.retry import backoff_delay_s
from app.engine.steps.base import (
    Complete,
    Fail,
    Outcome,
    ResolvedCredential,
    Sleep,
    StepContext,
    WaitForApproval,
    WaitForChild,
    WaitForSignal,
)
from app.models import Approval, RunStatus, StepStatus, Trigger, new_id
from app.repo import credentials as credentials_repo
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.repo import workflows as workflows_repo
from app.repo.steps import Claim, RunView, StepView

log = logging.getLogger(__name__)
_FALL_BACK = object()


class Work(NamedTuple):
    """A claimed step with what running it needs."""

    claim: Claim
    step: StepView
    run: RunView
    definition: Definition

# A step whose lease expired this many times beyond its retry budget fails instead of looping
# forever on a poison input that kills its worker.
RECLAIM_ALLOWANCE = 5
RETRY_JITTER = 0.5


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
    ) -> None:
        self.http = http
        self.lease_s = lease_s
        self.concurrency = concurrency
        self.claim_batch = claim_batch
        self.owner = owner or default_owner()
        self.clock = clock
        self.rand = rand
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = False
        self.on_step_finished: Callable[[], None] = lambda: None

    # -- scheduling ---------------------------------------------------------------------

    def claim(self, limit: int) -> list[Claim]:
        with write_session() as session:
            claims = steps_repo.claim_ready_steps(
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
        with write_session() as session:  # due again at once, for whichever worker runs next
            steps_repo.release_claims(session, [claim])
            session.commit()

    def _run_and_release(self, claim: Claim) -> None:
        try:
            self.run_claim(claim)
        except Exception:
            log.exception("step %s: executor error (the lease will expire and retry)",
                          claim.step_id)
        finally:
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
        if self._pool is not None:
            if wait and timeout_s is not None:
                deadline = threading.Event()
                waiter = threading.Thread(target=lambda: (self._pool.shutdown(wait=True),
                                                          deadline.set()), daemon=True)
                waiter.start()
                deadline.wait(timeout_s)
            else:
                self._pool.shutdown(wait=wait)

    def run_until_idle(self, *, max_steps: int = 10_000) -> int:
        """Run every ready step inline until none is ready now (tests and the CLI)."""
        done = 0
        while done < max_steps:
            claims = self.claim(self.claim_batch)
            if not claims:
                break
            for claim in claims:
                self.run_claim(claim)
            done += len(claims)
        return done

    # -- one step -------------------------------------------------------------------------

    def run_claim(self, claim: Claim) -> None:
        """Run a claimed step, then each successor this worker was handed in its commit."""
        work = self._load(claim)
        while work is not None:
            work = self._run_one(work)

    def _load(self, claim: Claim) -> Work | None:
        with read_session() as session:
            loaded = steps_repo.load_claimed(session, claim)
            if loaded is None:
                return None
            step, run = loaded
            return Work(claim, step, run, definition_of_version(session, run.workflow_version_id))

    def _run_one(self, work: Work) -> Work | None:
        outcome = self._decide(work.claim, work.step, work.run, work.definition)
        if isinstance(outcome, Complete) and not self._stopping and (
                outcome.next_step is not None or work.run.parent_step_id is None):
            handed = self._continue(work, outcome)
            if handed is not _FALL_BACK:
                return handed  # type: ignore[return-value]
        successor = self._commit(work.claim, work.step, work.definition, outcome)
        return self._load(successor) if successor is not None else None

    def _decide(self, claim: Claim, step: StepView, run: RunView,
                definition: Definition) -> Outcome:
        now = self.clock()
        if run.status not in RunStatus.ACTIVE:
            return Fail("run is no longer active", retryable=False)
        if run.deadline_at is not None and now > run.deadline_at:
            return Fail("the run exceeded its max_duration_s", retryable=False)
        if claim.attempt > claim.max_attempts + RECLAIM_ALLOWANCE:
            return Fail(f"the worker running this step stopped {claim.attempt - 1} times",
                        retryable=False)
        spec = definition.steps.get(step.step_key)
        if spec is None:
            return Fail(f"step '{step.step_key}' is not in this version", retryable=False)
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
        )
        try:
            return step_kinds.execute(spec, ctx)
        except Exception as exc:  # a bug in a step kind fails the step, never the executor
            log.exception("step %s (%s) raised", step.id, step.kind)
            return Fail(f"internal error in {step.kind} step: {type(exc).__name__}",
                        retryable=False)

    def _credential(self, workspace_id: str, ref: str) -> ResolvedCredential | None:
        with read_session() as session:
            row = credentials_repo.find_credential(session, workspace_id=workspace_id, ref=ref)
            if row is None:
                return None
            return ResolvedCredential(id=row.id, name=row.name, type=row.type,
                                      value=crypto.decrypt(row.value_encrypted),
                                      config=dict(row.config or {}))

    def _continue(self, work: Work, outcome: Complete) -> Work | object | None:
        """The hot path, in prebuilt Core statements: mark the step done and record its output,
        emit run.step_completed, then lease the next step to this worker (carrying the run's
        data forward in memory: nothing is read again) or complete the run; one commit.
        Answers _FALL_BACK when the run is no longer IN_PROGRESS (the general path handles
        that, a cancelled run say)."""
        claim, step, run, definition = work
        next_key = outcome.next_step
        now = self.clock()
        outputs = {**(run.outputs or {}), step.step_key: outcome.result}
        with write_session() as session:
            if not steps_repo.mark_done(session, claim, result=outcome.result,
                                        input={**(step.input or {}), **outcome.recorded_input},
                                        now=now):
                session.rollback()
                log.warning("step %s: lease lost, result of attempt %s discarded",
                            claim.step_id, claim.attempt)
                return None
            if next_key is None:
                moved = runs_repo.complete_in_progress(session, run_id=run.id, outputs=outputs,
                                                       now=now)
            else:
                moved = runs_repo.advance_in_progress(session, run_id=run.id, outputs=outputs,
                                                      current_step=next_key, now=now)
            if not moved:
                session.rollback()
                return _FALL_BACK
            emit_run_event(session, run, "run.step_completed", step_key=step.step_key,
                           step_id=step.id, step_status=StepStatus.DONE, kind=step.kind)
            if next_key is None:
                done = replace(run, status=RunStatus.COMPLETED, outputs=outputs,
                               steps_completed=run.steps_completed + 1)
                emit_run_event(session, done, "run.completed", outputs=outputs,
                               duration_ms=int((now - run.created_at).total_seconds() * 1000),
                               steps_completed=done.steps_completed)
                session.commit()
                return None
            successor = self._lease_successor(session, work, next_key, now)
            session.commit()
        advanced = replace(run, outputs=outputs, current_step=next_key,
                           steps_completed=run.steps_completed + 1)
        return Work(successor[0], successor[1], advanced, definition)

    def _lease_successor(self, session: Session, work: Work, next_key: str,
                         now: datetime) -> tuple[Claim, steps_repo.StepView]:
        step, run, spec = work.step, work.run, work.definition.steps[next_key]
        lease = steps_repo.Lease(owner=self.owner, token=steps_repo.new_token(),
                                 expires_at=now + timedelta(seconds=self.lease_s))
        successor = steps_repo.StepView(
            id=new_id("stp"), run_id=run.id, workspace_id=run.workspace_id, step_key=next_key,
            kind=spec.kind, seq=step.seq + 1, status=StepStatus.RUNNING, attempt=1,
            max_attempts=max_attempts_of(spec), input={"previous": step.step_key},
            started_at=now)
        steps_repo.insert_step(
            session, step_id=successor.id, workspace_id=run.workspace_id, run_id=run.id,
            step_key=next_key, kind=spec.kind, seq=successor.seq,
            max_attempts=successor.max_attempts, input=successor.input, lease=lease, now=now)
        return steps_repo.claim_of(successor, lease), successor

    def _commit(self, claim: Claim, step: StepView, definition: Definition,
                outcome: Outcome) -> Claim | None:
        """Commit an outcome under the lease; returns the successor handed to this worker."""
        handover: Claim | None = None
        with write_session() as session:
            run = runs_repo.lock_run(session, claim.run_id)
            now = self.clock()
            if run is None:
                return None
            if run.status not in RunStatus.ACTIVE:
                applied = steps_repo.finish_claim(session, claim, values={
                    "status": StepStatus.CANCELLED, "finished_at": now, "updated_at": now})
            elif isinstance(outcome, Complete):
                applied, handover = self._apply_complete(session, claim, run, step, definition,
                                                         outcome, now)
            else:
                applied = self._apply(session, claim, run, step, definition, outcome, now)
            if not applied:
                session.rollback()
                log.warning("step %s: lease lost, result of attempt %s discarded",
                            claim.step_id, claim.attempt)
                return None
            session.commit()
        return handover

    def _apply_complete(self, session: Session, claim: Claim, run: RunView, step: StepView,
                        definition: Definition, outcome: Complete,
                        now: datetime) -> tuple[bool, Claim | None]:
        step_input = {**(step.input or {}), **outcome.recorded_input}
        ok = steps_repo.finish_claim(session, claim, values={
            "status": StepStatus.DONE, "result": outcome.result, "error": None,
            "input": step_input, "finished_at": now, "updated_at": now, "next_attempt_at": None})
        if not ok:
            return False, None
        # The successor is leased to this worker in the same commit and run at once: no claim
        # round trip between the steps of a run (a draining worker leaves it to others).
        lease = None if self._stopping else steps_repo.Lease(
            owner=self.owner, token=steps_repo.new_token(),
            expires_at=now + timedelta(seconds=self.lease_s))
        successor = record_step_done(session, run=run, step=step, result=outcome.result,
                                     next_key=outcome.next_step, definition=definition, now=now,
                                     lease=lease)
        if successor is None or lease is None:
            return True, None
        return True, steps_repo.claim_of(successor, lease)

    def _apply(self, session: Session, claim: Claim, run: RunView, step: StepView,
               definition: Definition, outcome: Outcome, now: datetime) -> bool:
        recorded = getattr(outcome, "recorded_input", None) or {}
        step_input = {**(step.input or {}), **recorded}
        if isinstance(outcome, Fail):
            return self._apply_failure(session, claim, run, step, outcome, step_input, now)
        if isinstance(outcome, Sleep):
            step_input["until"] = outcome.until.isoformat()
            return steps_repo.finish_claim(session, claim, values={
                "status": StepStatus.WAITING, "input": step_input,
                "next_attempt_at": outcome.until, "updated_at": now})
        if isinstance(outcome, WaitForChild):
            return self._apply_child(session, claim, run, step, outcome, step_input, now)
        waiting = {"status": StepStatus.WAITING, "input": step_input,
                   "next_attempt_at": None, "updated_at": now}
        if not steps_repo.finish_claim(session, claim, values=waiting):
            return False
        if isinstance(outcome, WaitForApproval):
            approval = Approval(
                workspace_id=run.workspace_id, run_id=run.id, step_run_id=step.id,
                step_key=step.step_key, workflow_id=run.workflow_id,
                workflow_title=run.workflow_title, assignees=outcome.assignees,
                instructions=outcome.instructions, due_at=outcome.due_at, created_at=now)
            session.add(approval)
            session.flush()
            block_run(session, run=run, reason="approval", step=step, now=now, approval=approval)
        elif isinstance(outcome, WaitForSignal):
            block_run(session, run=run, reason="signal", step=step, now=now)
        session.add(run)
        return True

    def _apply_failure(self, session: Session, claim: Claim, run: RunView, step: StepView,
                       outcome: Fail, step_input: dict[str, Any], now: datetime) -> bool:
        if outcome.retryable and claim.attempt < claim.max_attempts:
            spec = definition_of_version(session, run.workflow_version_id).steps[step.step_key]
            policy = spec.retry  # type: ignore[union-attr]
            delay = backoff_delay_s(claim.attempt, base_s=policy.backoff_s,
                                    max_s=policy.max_backoff_s, jitter=RETRY_JITTER,
                                    rand=self.rand)
            if outcome.retry_after_s is not None:
                delay = max(delay, min(outcome.retry_after_s, policy.max_backoff_s))
            return steps_repo.finish_claim(session, claim, values={
                "status": StepStatus.PENDING, "error": outcome.error, "input": step_input,
                "next_attempt_at": now + timedelta(seconds=delay), "updated_at": now})
        ok = steps_repo.finish_claim(session, claim, values={
            "status": StepStatus.FAILED, "error": outcome.error, "input": step_input,
            "finished_at": now, "updated_at": now, "next_attempt_at": None})
        if ok:
            flag_run(session, run=run, step=step, error=outcome.error, now=now)
            session.add(run)
        return ok

    def _apply_child(self, session: Session, claim: Claim, run: RunView, step: StepView,
                     outcome: WaitForChild, step_input: dict[str, Any], now: datetime) -> bool:
        workflow = workflows_repo.get_workflow(session, outcome.workflow_id,
                                               workspace_id=run.workspace_id)
        version = (workflows_repo.get_version_by_number(session, workflow.id,
                                                        workflow.published_number)
                   if workflow is not None and workflow.published_number else None)
        if workflow is None or version is None:
            failure = Fail(f"sub-workflow '{outcome.workflow_id}' has no published version",
                           retryable=False)
            return self._apply_failure(session, claim, run, step, failure, step_input, now)
        child_definition = definition_of_version(session, version.id)
        clean, problems = validate_data(input_fields(child_definition), outcome.input)
        if problems:
            listed = "; ".join(f"{p.field}: {p.message}" for p in problems)
            failure = Fail(f"sub-workflow input is invalid: {listed}", retryable=False)
            return self._apply_failure(session, claim, run, step, failure, step_input, now)
        child = start_run(session, workflow=workflow, version=version,
                          definition=child_definition, input=clean, trigger=Trigger.SUBWORKFLOW,
                          created_by=f"run:{run.id}", now=now, parent_step_id=step.id)
        step_input["child_run_id"] = child.id
        return steps_repo.finish_claim(session, claim, values={
            "status": StepStatus.WAITING, "input": step_input, "next_attempt_at": None,
            "updated_at": now})

