"""A transition: everything one change of a run writes, as plain data (decided in the engine,
written by the repo's apply, in one transaction).

    outcome ──► engine.transition.decide() ──► Transition ──► repo.transitions.apply()
    (step done, failed, decided,      (pure)       (what to write)    (lease- and status-guarded
     signalled, skipped, cancelled…)                                    prebuilt statements)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The run events that report a run leaving IN_PROGRESS: their commit wakes the run's waiters.
SETTLING_EVENTS = frozenset(
    {"run.awaiting_approval", "run.flagged", "run.completed", "run.cancelled"})


@dataclass(frozen=True, slots=True)
class StepState:
    """A step as a transition sees it (plain data, no ORM state)."""

    id: str
    run_id: str
    workspace_id: str
    step_key: str
    kind: str
    seq: int
    status: str
    attempt: int
    max_attempts: int
    input: dict[str, Any]
    started_at: datetime | None


@dataclass(frozen=True, slots=True)
class RunState:
    """A run as a transition sees it."""

    id: str
    workspace_id: str
    workflow_id: str
    workflow_version_id: str
    version_number: int
    workflow_title: str
    status: str
    input: dict[str, Any]
    outputs: dict[str, Any]
    trigger: str
    created_at: datetime
    deadline_at: datetime | None
    parent_step_id: str | None
    steps_completed: int
    current_step: str | None
    error: str | None = None
    completed_at: datetime | None = None
    created_by: str | None = None
    requester: str | None = None  # `type:id` of who started it (an approval may refuse them)
    source_run_id: str | None = None  # re-run of, or error workflow for, that run


@dataclass(frozen=True, slots=True)
class StepWrite:
    """A step's new state, written only if the step is still as the writer saw it: held under
    `lease_token` (the executor), or else in one of `from_statuses`."""

    step_id: str
    status: str
    input: dict[str, Any]
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    result: Any = None
    error: str | None = None
    lease_token: str | None = None
    from_statuses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RunWrite:
    """A run's new state, written only if its status and step count are still the ones read
    (a concurrent cancel or decision makes the writer decide again)."""

    run_id: str
    status: str
    outputs: dict[str, Any]
    current_step: str | None
    steps_completed: int
    error: str | None
    completed_at: datetime | None
    updated_at: datetime
    from_status: str
    from_steps_completed: int


@dataclass(frozen=True, slots=True)
class NewStep:
    """A step to create: pending for any worker, or leased at creation (the hand-over)."""

    id: str
    run_id: str
    workspace_id: str
    step_key: str
    kind: str
    seq: int
    max_attempts: int
    input: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewApproval:
    id: str
    workspace_id: str
    run_id: str
    step_run_id: str
    step_key: str
    workflow_id: str
    workflow_title: str
    assignees: list[str]
    instructions: str
    due_at: datetime | None
    created_at: datetime
    policy: dict[str, Any] = field(default_factory=dict)
    next_timer_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunEvent:
    """An outbox event about a run (its type is in the webhook catalogue)."""

    type: str
    workspace_id: str
    run_id: str
    workflow_id: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Transition:
    """What one change writes. `after` is the run as it is once written (None: the run row is
    not touched); `new_run` inserts it instead of updating it. `then` are transitions applied
    in the same transaction right after (a sub-workflow's child run starting);
    `resumes_parent_step` names the waiting step of a parent run that the now finished child
    run resumes (the caller reads it and decides that transition next)."""

    step_writes: tuple[StepWrite, ...] = ()
    run: RunWrite | None = None
    new_run: RunState | None = None
    new_step: NewStep | None = None
    new_approval: NewApproval | None = None
    cancel_approvals_of_run: str | None = None
    events: tuple[RunEvent, ...] = ()
    then: tuple[Transition, ...] = ()
    after: RunState | None = None
    resumes_parent_step: str | None = None
