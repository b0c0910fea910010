"""Schedules and their fires: lists, the due query, the compare-and-swap claim of a due time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.models import Run, Schedule, ScheduleFire
from app.models.schedule import MissedPolicy
from app.repo.conditions import ENUM, FLAG, TEXT, TIME, Attribute, Condition, apply

# What structured filters may name on a schedule list.
SCHEDULE_ATTRIBUTES = {
    "id": Attribute(Schedule.id, TEXT),
    "name": Attribute(Schedule.name, TEXT),
    "workflow_id": Attribute(Schedule.workflow_id, TEXT),
    "cron": Attribute(Schedule.cron, TEXT),
    "timezone": Attribute(Schedule.timezone, TEXT),
    "missed_policy": Attribute(Schedule.missed_policy, ENUM, MissedPolicy.ALL),
    "enabled": Attribute(Schedule.enabled, FLAG),
    "next_fire_at": Attribute(Schedule.next_fire_at, TIME, nullable=True),
    "last_fired_at": Attribute(Schedule.last_fired_at, TIME, nullable=True),
    "created_at": Attribute(Schedule.created_at, TIME),
}


def get_schedule(session: Session, schedule_id: str, *, workspace_id: str) -> Schedule | None:
    schedule = session.get(Schedule, schedule_id)
    return schedule if schedule is not None and schedule.workspace_id == workspace_id else None


def list_schedules_page(session: Session, *, workspace_id: str, limit: int,
                        workflow_id: str | None = None,
                        before: tuple[datetime, str] | None = None, offset: int = 0,
                        conditions: Sequence[Condition] = ()) -> Sequence[Schedule]:
    """Newest first; `before` is the (created_at, id) of the previous page's last row."""
    query = apply(select(Schedule).where(Schedule.workspace_id == workspace_id),
                  SCHEDULE_ATTRIBUTES, conditions)
    if workflow_id:
        query = query.where(Schedule.workflow_id == workflow_id)
    if before:
        at, ident = before
        query = query.where((col(Schedule.created_at) < at)
                            | ((col(Schedule.created_at) == at) & (col(Schedule.id) < ident)))
    query = query.order_by(col(Schedule.created_at).desc(), col(Schedule.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


def due_schedules(session: Session, *, now: datetime, limit: int) -> Sequence[Schedule]:
    return session.exec(
        select(Schedule)
        .where(col(Schedule.enabled), col(Schedule.next_fire_at) <= now)
        .order_by(col(Schedule.next_fire_at))
        .limit(limit)
    ).all()


def claim_due(session: Session, schedule: Schedule, *, following: datetime | None,
              now: datetime) -> bool:
    """Move the schedule past its due time if no other process did: True when this one won."""
    won = session.exec(
        update(Schedule)
        .where(col(Schedule.id) == schedule.id, col(Schedule.enabled),
               col(Schedule.next_fire_at) == schedule.next_fire_at)
        .values(next_fire_at=following, last_fired_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    return bool(won == 1)


def unclaim(session: Session, schedule_id: str, *, due_at: datetime) -> None:
    """Put a claimed due time back (its run could not start yet)."""
    session.execute(update(Schedule).where(col(Schedule.id) == schedule_id)
                    .values(next_fire_at=due_at).execution_options(synchronize_session=False))


def pause(session: Session, schedule_id: str) -> None:
    session.execute(update(Schedule).where(col(Schedule.id) == schedule_id)
                    .values(enabled=False, next_fire_at=None)
                    .execution_options(synchronize_session=False))


def set_last_run(session: Session, schedule_id: str, run_id: str) -> None:
    session.execute(update(Schedule).where(col(Schedule.id) == schedule_id)
                    .values(last_run_id=run_id).execution_options(synchronize_session=False))


def record_fire(session: Session, **values: Any) -> ScheduleFire:
    fire = ScheduleFire(**values)
    session.add(fire)
    session.flush()
    return fire


@dataclass(frozen=True, slots=True)
class FireEntry:
    fire: ScheduleFire
    run_status: str | None


def history_page(session: Session, *, schedule_id: str, limit: int,
                 before: tuple[datetime, str] | None = None) -> list[FireEntry]:
    """A schedule's fires, newest first, with the status of the run each started."""
    query = (select(ScheduleFire, Run.status)
             .outerjoin(Run, col(Run.id) == col(ScheduleFire.run_id))
             .where(ScheduleFire.schedule_id == schedule_id))
    if before:
        at, ident = before
        query = query.where((col(ScheduleFire.at) < at)
                            | ((col(ScheduleFire.at) == at) & (col(ScheduleFire.id) < ident)))
    query = query.order_by(col(ScheduleFire.at).desc(), col(ScheduleFire.id).desc())
    return [FireEntry(fire, status) for fire, status in session.exec(query.limit(limit)).all()]


def delete_schedule(session: Session, schedule: Schedule) -> None:
    """The schedule and its history in one statement each (the runs it started stay)."""
    session.execute(delete(ScheduleFire).where(col(ScheduleFire.schedule_id) == schedule.id))
    session.delete(schedule)
