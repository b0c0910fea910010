"""What a step sees (StepContext) and what it answers (an Outcome the executor commits)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx


@dataclass(frozen=True)
class ResolvedCredential:
    """A decrypted credential, alive only inside the step that uses it."""

    id: str
    name: str
    type: str
    value: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class FileContent:
    """An uploaded file's bytes, for a step that sends it (an http step's multipart part)."""

    name: str
    content_type: str
    data: bytes


FileReader = Callable[[str, str], FileContent | None]  # (workspace id, file id) → its bytes


@dataclass
class StepContext:
    run_id: str
    workspace_id: str
    workflow_id: str
    workflow_title: str
    version_number: int
    step_id: str
    step_key: str
    attempt: int
    now: datetime
    run_input: Mapping[str, Any]
    outputs: Mapping[str, Any]
    previous_key: str | None
    run_trigger: str
    run_created_at: datetime
    step_input: Mapping[str, Any]
    http: httpx.Client | None = None
    find_credential: Callable[[str], ResolvedCredential | None] = lambda _ref: None
    read_file: Callable[[str], FileContent | None] | None = None  # a file of this workspace
    log: Callable[[str], None] = lambda _message: None

    @property
    def idempotency_key(self) -> str:
        """Stable across attempts, so a target can deduplicate a retried side effect."""
        return f"{self.run_id}:{self.step_key}"

    @property
    def previous_result(self) -> Any:
        return self.outputs.get(self.previous_key) if self.previous_key else None

    def template_context(self) -> dict[str, Any]:
        return {
            "input": dict(self.run_input),
            "steps": dict(self.outputs),
            "result": self.previous_result,
            "run": {
                "id": self.run_id,
                "trigger": self.run_trigger,
                "created_at": self.run_created_at.isoformat(),
                "attempt": self.attempt,
            },
            "workflow": {
                "id": self.workflow_id,
                "title": self.workflow_title,
                "version": self.version_number,
            },
        }


@dataclass
class Complete:
    """The step is done; the run moves on to `next_step` (None ends the run)."""

    result: Any
    next_step: str | None
    recorded_input: dict[str, Any] = field(default_factory=dict)


@dataclass
class Fail:
    """The step failed; retried by its policy when `retryable`, otherwise the run is FLAGGED."""

    error: str
    retryable: bool = True
    recorded_input: dict[str, Any] = field(default_factory=dict)
    retry_after_s: float | None = None


@dataclass
class WaitForApproval:
    assignees: list[str]
    instructions: str
    due_at: datetime | None
    policy: dict[str, Any] = field(default_factory=dict)  # approval_policy.Policy.to_json()


@dataclass
class WaitForSignal:
    instructions: str = ""


@dataclass
class WaitForChild:
    workflow_id: str
    input: dict[str, Any]


@dataclass
class Sleep:
    """Come back at `until` (a delay step); the step waits and the run stays IN_PROGRESS."""

    until: datetime


Outcome = Complete | Fail | WaitForApproval | WaitForSignal | WaitForChild | Sleep
