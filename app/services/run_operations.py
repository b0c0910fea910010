"""Run operations by a signed-in member: the role is checked, then the run services act."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Run, StepRun
from app.services import permissions, runs
from app.services.permissions import Member


def cancel(session: Session, *, member: Member, run_id: str) -> Run:
    permissions.require(member.role, permissions.OPERATE_RUNS)
    return runs.cancel_run(session, workspace_id=member.workspace_id, run_id=run_id,
                           actor=member.actor)


def retry(session: Session, *, member: Member, step_id: str) -> StepRun:
    permissions.require(member.role, permissions.OPERATE_RUNS)
    return runs.retry_step(session, workspace_id=member.workspace_id, step_id=step_id,
                           actor=member.actor)


def skip(session: Session, *, member: Member, step_id: str) -> StepRun:
    permissions.require(member.role, permissions.OPERATE_RUNS)
    return runs.skip_step(session, workspace_id=member.workspace_id, step_id=step_id,
                          actor=member.actor)
