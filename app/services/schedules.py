"""Schedules: cron + time zone; due schedules are claimed by compare-and-swap and fire once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import update
from sqlmodel import Session, col, select

from app.clock import as_utc, utcnow
from app.errors import DomainError, FieldError, ValidationFailed, not_found
from app.models import Actor, Schedule, Trigger
from app.repo import audit, workflows
from app.services.runs import start_new_run

MAX_DUE_PER_TICK = 100


def cron_trigger(cron: str, timezone: str) -> CronTrigger:
    problems = []
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(FieldError("timezone", f"unknown time zone '{timezone}'"))
        zone = ZoneInfo("UTC")
    try:
        trigger = CronTrigger.from_crontab(cron, timezone=zone)
    except ValueError as exc:
        problems.append(FieldError("cron", f"not a valid cron expression: {exc}"))
    if problems:
        raise ValidationFailed("The schedule is invalid", errors=problems)
    return trigger


def next_fire_time(cron: str, timezone: str, after: datetime) -> datetime | None:
    fire = cron_trigger(cron, timezone).get_next_fire_time(None, after)
    return as_utc(fire) if fire is not None else None


def create_schedule(session: Session, *, workspace_id: str, workflow_id: str, cron: str,
                    actor: Actor, timezone: str = "UTC",
                    input: dict[str, Any] | None = None) -> Schedule:
    if workflows.get_workflow(session, workflow_id, workspace_id=workspace_id) is None:
        raise not_found("workflow", workflow_id)
    schedule = Schedule(workspace_id=workspace_id, workflow_id=workflow_id, cron=cron,
                        timezone=timezone, input=input or {}, created_by=actor.display,
                        next_fire_at=next_fire_time(cron, timezone, utcnow()))
    session.add(schedule)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="schedule.created",
                 resource_type="schedule", resource_id=schedule.id, details={"cron": cron})
    session.commit()
    return schedule


def list_schedules(session: Session, *, workspace_id: str) -> Sequence[Schedule]:
    return session.exec(select(Schedule).where(Schedule.workspace_id == workspace_id)).all()


def fire_due_schedules(session: Session, *, now: datetime | None = None) -> list[str]:
    """Start a run for every due schedule this process wins; returns the run ids."""
    now = now or utcnow()
    due = session.exec(
        select(Schedule)
        .where(col(Schedule.enabled), col(Schedule.next_fire_at) <= now)
        .limit(MAX_DUE_PER_TICK)
    ).all()
    started: list[str] = []
    for schedule in due:
        following = next_fire_time(schedule.cron, schedule.timezone, now)
        won = session.execute(
            update(Schedule)
            .where(col(Schedule.id) == schedule.id,
                   col(Schedule.next_fire_at) == schedule.next_fire_at)
            .values(next_fire_at=following, last_fired_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won != 1:
            continue
        try:
            with session.begin_nested():
                run = start_new_run(session, workspace_id=schedule.workspace_id,
                                    workflow_id=schedule.workflow_id, input=schedule.input,
                                    actor=Actor.system(f"schedule:{schedule.id}"),
                                    trigger=Trigger.SCHEDULE)
            session.execute(update(Schedule).where(col(Schedule.id) == schedule.id)
                            .values(last_run_id=run.id))
            started.append(run.id)
        except DomainError as exc:
            audit.record(session, workspace_id=schedule.workspace_id,
                         actor=Actor.system("scheduler"), action="schedule.failed",
                         resource_type="schedule", resource_id=schedule.id,
                         details={"error": str(exc)})
    session.commit()
    return started
