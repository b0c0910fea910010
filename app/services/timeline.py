"""A run's timeline as pages show it: every step in order, formatted, with its approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.clock import iso, utcnow
from app.engine.approval_policy import Policy, progress
from app.errors import not_found
from app.models import Approval, ApprovalVote, RunStatus, StepStatus
from app.repo import approvals as approvals_repo
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.services import files, submissions
from app.services.inbox import pretty_json
from app.services.reruns import RERUNNABLE


@dataclass(frozen=True)
class StepView:
    id: str
    seq: int
    step_key: str
    kind: str
    status: str
    attempt: int
    max_attempts: int
    started_at: str
    finished_at: str
    duration: str
    input: str
    output: str
    error: str
    approval_status: str
    approval_by: str
    approval_at: str
    approval_comment: str
    approval_assignees: str
    approval_instructions: str
    can_retry: bool
    # every vote cast (by, decision, comment, fields as text, at) and "1 of 2 approvals"
    approval_votes: list[dict[str, str]] = field(default_factory=list)
    approval_progress: str = ""


@dataclass(frozen=True)
class RunView:
    id: str
    workflow_id: str
    workflow_title: str
    version_number: int
    status: str
    trigger: str
    created_by: str
    created_at: str
    completed_at: str
    duration: str
    error: str
    input: str
    outputs: str
    current_step: str
    finished: bool
    steps: list[StepView]
    # Where this run came from ("rerun" of, or "error" workflow for, source_run_id), and the
    # runs started from it (re-runs, error workflows).
    source_run_id: str = ""
    related: list[dict[str, str]] = field(default_factory=list)
    can_rerun: bool = False
    rerun_choices: list[str] = field(default_factory=list)
    files: list[dict[str, str]] = field(default_factory=list)  # referenced, with links


def _vote_view(vote: ApprovalVote) -> dict[str, str]:
    shown = ", ".join(f"{name}: {submissions.cell(value)}"
                      for name, value in (vote.fields or {}).items())
    return {"by": vote.label, "decision": vote.decision, "comment": vote.comment or "",
            "fields": shown, "via": vote.via, "at": iso(vote.created_at) or ""}


def _progress(approval: Approval, votes: list[ApprovalVote]) -> str:
    policy = Policy.of_json(approval.policy, approval.assignees)
    return progress(policy, [vote.decision for vote in votes])


def format_duration(start: datetime | None, end: datetime | None) -> str:
    """'350 ms', '4.2 s', '3 min 5 s', '2 h 10 min'; empty when it has not started."""
    if start is None:
        return ""
    seconds = ((end or utcnow()) - start).total_seconds()
    if seconds < 1:
        return f"{max(seconds, 0) * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def runs_from(session: Session, run_id: str) -> list[dict[str, Any]]:
    """The runs started from this one (re-runs and error workflows), oldest first."""
    return [{"id": r.id, "workflow_title": r.workflow_title, "trigger": r.trigger,
             "status": r.status, "created_at": iso(r.created_at) or ""}
            for r in runs_repo.runs_from(session, run_id)]


def run_view(session: Session, *, workspace_id: str, run_id: str) -> RunView:
    run = runs_repo.get_run(session, run_id, workspace_id=workspace_id)
    if run is None:
        raise not_found("run", run_id)
    steps = list(steps_repo.steps_of_run(session, run.id))
    failed = [s for s in steps if s.status == StepStatus.FAILED]
    retryable = failed[-1].id if failed and run.status == RunStatus.FLAGGED else None
    views = []
    for step in steps:
        approval = None
        votes: list[ApprovalVote] = []
        if step.kind == "approval":
            found = approvals_repo.approvals_of_step(session, step.id)
            approval = found[-1] if found else None
            votes = approvals_repo.votes_of(session, approval.id) if approval else []
        end = step.finished_at if step.finished_at else (
            None if step.status in StepStatus.OPEN else step.updated_at)
        views.append(StepView(
            id=step.id, seq=step.seq, step_key=step.step_key, kind=step.kind,
            status=step.status, attempt=step.attempt, max_attempts=step.max_attempts,
            started_at=iso(step.started_at) or "", finished_at=iso(step.finished_at) or "",
            duration=format_duration(step.started_at, end),
            input=pretty_json(step.input), output=pretty_json(step.result),
            error=step.error or "",
            approval_status=approval.status if approval else "",
            approval_by=(approval.decided_by or "") if approval else "",
            approval_at=(iso(approval.decided_at) or "") if approval else "",
            approval_comment=(approval.comment or "") if approval else "",
            approval_assignees=", ".join(approval.assignees) if approval else "",
            approval_instructions=(approval.instructions or "") if approval else "",
            can_retry=step.id == retryable,
            approval_votes=[_vote_view(vote) for vote in votes],
            approval_progress=_progress(approval, votes) if approval else "",
        ))
    return RunView(
        id=run.id, workflow_id=run.workflow_id,
        workflow_title=run.workflow_title or run.workflow_id,
        version_number=run.version_number, status=run.status, trigger=run.trigger,
        created_by=run.created_by or "", created_at=iso(run.created_at) or "",
        completed_at=iso(run.completed_at) or "",
        duration=format_duration(run.created_at, run.completed_at),
        error=run.error or "", input=pretty_json(run.input), outputs=pretty_json(run.outputs),
        current_step=run.current_step or "", finished=run.status in RunStatus.FINISHED,
        steps=views, source_run_id=run.source_run_id or "",
        related=[{k: str(v) for k, v in r.items()} for r in runs_from(session, run.id)],
        can_rerun=run.status in RERUNNABLE,
        rerun_choices=list(dict.fromkeys(s.step_key for s in steps)),
        files=files.file_rows(session, workspace_id=workspace_id,
                              values=[run.input, run.outputs]),
    )
