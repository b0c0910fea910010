"""Run operations by a signed-in member: the role is checked, then the run services act."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Actor, Run, StepRun
from app.services import permissions, runs


def cancel(session: Session, *, actor: Actor, run_id: str) -> Run:
    permissions.require(actor.role, permissions.OPERATE_RUNS)
    return runs.cancel_run(session, workspace_id=actor.workspace_id, run_id=run_id,
                           actor=actor)


def retry(session: Session, *, actor: Actor, step_id: str) -> StepRun:
    permissions.require(actor.role, permissions.OPERATE_RUNS)
    return runs.retry_step(session, workspace_id=actor.workspace_id, step_id=step_id,
                           actor=actor)


def skip(session: Session, *, actor: Actor, step_id: str) -> StepRun:
    permissions.require(actor.role, permissions.OPERATE_RUNS)
    return runs.skip_step(session, workspace_id=actor.workspace_id, step_id=step_id,
                          actor=actor)
