"""Schedules: cron + time zone + input for a workflow's runs. A due time is claimed by
compare-and-swap and its run started in the same transaction, so it fires once however many
processes look; due times missed while no process ran follow the schedule's policy."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.clock import as_utc, utcnow
from app.engine import cron as cron_rules
from app.engine.cron_text import describe
from app.engine.definition import input_fields
from app.engine.fields import validate_data
from app.engine.progress import definition_of_version
from app.errors import ConcurrencyLimited, DomainError, FieldError, ValidationFailed, not_found
from app.models import Actor, FireKind, MissedPolicy, Schedule, Trigger
from app.repo import audit, workflows
from app.repo import schedules as schedules_repo
from app.repo.schedules import FireEntry
from app.services import permissions
from app.services.runs import Started, start_run_and_step

MAX_DUE_PER_TICK = 100
PREVIEW_COUNT = 5
# A due time claimed later than this after it was due counts as missed (the process was down
# or stopped); the job looks every few seconds, so a running process is never this late.
MISSED_GRACE = timedelta(seconds=60)
EDITABLE = ("name", "cron", "timezone", "input", "missed_policy")


@dataclass(frozen=True, slots=True)
class Timing:
    """An expression checked: its words and its next due times (UTC)."""

    description: str
    next_fire_times: list[datetime]


def _rules(cron: str, timezone: str) -> cron_rules.Cron:
    problems: list[FieldError] = []
    parsed = None
    try:
        parsed = cron_rules.parse(cron)
    except cron_rules.CronError as exc:
        problems.append(FieldError("cron", str(exc), "invalid"))
    try:
        cron_rules.zone(timezone)
    except cron_rules.CronError as exc:
        problems.append(FieldError("timezone", str(exc), "invalid"))
    if parsed is not None and not problems:
        if next(cron_rules.fire_times(parsed, timezone, utcnow()), None) is None:
            problems.append(FieldError("cron", "never comes due (no such date)", "invalid"))
    if problems:
        raise ValidationFailed("The schedule is invalid", errors=problems)
    assert parsed is not None
    return parsed


def timing(cron: str, timezone: str = "UTC", *, count: int = PREVIEW_COUNT,
           after: datetime | None = None) -> Timing:
    """The words and next `count` due times of an expression, or 422 naming the field."""
    parsed = _rules(cron, timezone)
    times = itertools.islice(cron_rules.fire_times(parsed, timezone, after or utcnow()), count)
    return Timing(describe(parsed), list(times))


def timing_of(schedule: Schedule) -> Timing:
    """A stored schedule's timing; one whose rules no longer parse shows why, not a 422."""
    try:
        return timing(schedule.cron, schedule.timezone)
    except ValidationFailed as exc:
        return Timing(f"Invalid: {exc.errors[0].message if exc.errors else exc}", [])


def _next_after(schedule: Schedule, now: datetime) -> datetime | None:
    parsed = _rules(schedule.cron, schedule.timezone)
    return next(cron_rules.fire_times(parsed, schedule.timezone, now), None)


def _check_input(session: Session, workflow_id: str, workspace_id: str,
                 data: dict[str, Any]) -> dict[str, Any]:
    """The input as the workflow's published input fields take it (typed: "3" for a number
    field is 3), checked again at each fire, since a later version may ask for others."""
    workflow = workflows.workflow_ref(session, workflow_id, workspace_id=workspace_id)
    if workflow is None:
        raise ValidationFailed("The schedule is invalid", errors=[FieldError(
            "workflow_id", f"no workflow '{workflow_id}' in this workspace", "not_found")])
    if workflow.published_number is None:
        raise ValidationFailed("The schedule is invalid", errors=[FieldError(
            "workflow_id", "the workflow has no published version; publish it first",
            "unpublished")])
    version = workflows.version_ref(session, workflow.id, workflow.published_number)
    if version is None:
        return data
    fields = input_fields(definition_of_version(session, version.id))
    clean, problems = validate_data(fields, data)
    if problems:
        raise ValidationFailed("The schedule's input does not match the workflow's input fields",
                               errors=[FieldError(f"input.{p.field}", p.message, p.code)
                                       for p in problems])
    return clean if fields else data


def _check_policy(policy: str) -> None:
    if policy not in MissedPolicy.ALL:
        raise ValidationFailed("The schedule is invalid", errors=[FieldError(
            "missed_policy", f"must be one of {', '.join(MissedPolicy.ALL)}", "invalid")])


def _may_build(actor: Actor) -> None:
    if actor.is_user:  # an API key's scope was checked by its route
        permissions.require(actor.role, permissions.BUILD)


def create_schedule(session: Session, *, workspace_id: str, workflow_id: str, cron: str,
                    actor: Actor, timezone: str = "UTC", input: dict[str, Any] | None = None,
                    name: str = "", missed_policy: str = MissedPolicy.SKIP,
                    enabled: bool = True) -> Schedule:
    _may_build(actor)
    _rules(cron, timezone)
    _check_policy(missed_policy)
    clean = _check_input(session, workflow_id, workspace_id, input or {})
    now = utcnow()
    schedule = Schedule(workspace_id=workspace_id, workflow_id=workflow_id, name=name.strip(),
                        cron=" ".join(cron.split()), timezone=timezone, input=clean,
                        missed_policy=missed_policy, enabled=enabled,
                        created_by=actor.display, created_at=now, updated_at=now)
    schedule.next_fire_at = _next_after(schedule, now) if enabled else None
    session.add(schedule)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="schedule.created",
                 resource_type="schedule", resource_id=schedule.id,
                 details={"cron": schedule.cron, "timezone": timezone,
                          "workflow_id": workflow_id})
    session.commit()
    return schedule


def get_schedule(session: Session, *, workspace_id: str, schedule_id: str) -> Schedule:
    schedule = schedules_repo.get_schedule(session, schedule_id, workspace_id=workspace_id)
    if schedule is None:
        raise not_found("schedule", schedule_id)
    return schedule


def list_schedules(session: Session, *, workspace_id: str, limit: int = 100,
                   workflow_id: str | None = None,
                   before: tuple[datetime, str] | None = None) -> Sequence[Schedule]:
    return schedules_repo.list_schedules_page(session, workspace_id=workspace_id, limit=limit,
                                              workflow_id=workflow_id, before=before)


def update_schedule(session: Session, *, actor: Actor, schedule_id: str,
                    **changes: Any) -> Schedule:
    """Change the properties given (any of EDITABLE); a new cron or zone moves the next due
    time to what the new rules say."""
    _may_build(actor)
    schedule = get_schedule(session, workspace_id=actor.workspace_id, schedule_id=schedule_id)
    given = {k: v for k, v in changes.items() if k in EDITABLE and v is not None}
    cron = " ".join(given.get("cron", schedule.cron).split())
    timezone = given.get("timezone", schedule.timezone)
    _rules(cron, timezone)
    _check_policy(given.get("missed_policy", schedule.missed_policy))
    if "input" in given:
        given["input"] = _check_input(session, schedule.workflow_id, schedule.workspace_id,
                                      given["input"])
    for key, value in given.items():
        setattr(schedule, key, value.strip() if key == "name" else value)
    schedule.cron = cron
    now = utcnow()
    if schedule.enabled and ("cron" in given or "timezone" in given):
        schedule.next_fire_at = _next_after(schedule, now)
    schedule.updated_at = now
    session.add(schedule)
    audit.record(session, workspace_id=schedule.workspace_id, actor=actor,
                 action="schedule.updated", resource_type="schedule", resource_id=schedule.id,
                 details={k: v for k, v in given.items() if k != "input"})
    session.commit()
    return schedule


def set_enabled(session: Session, *, actor: Actor, schedule_id: str,
                enabled: bool) -> Schedule:
    """Pause (no due time) or resume: due times that passed while paused are not missed
    fires, so resuming fires next at the first due time after now."""
    _may_build(actor)
    schedule = get_schedule(session, workspace_id=actor.workspace_id, schedule_id=schedule_id)
    if schedule.enabled != enabled:
        now = utcnow()
        schedule.enabled = enabled
        schedule.next_fire_at = _next_after(schedule, now) if enabled else None
        schedule.updated_at = now
        session.add(schedule)
        audit.record(session, workspace_id=schedule.workspace_id, actor=actor,
                     action="schedule.resumed" if enabled else "schedule.paused",
                     resource_type="schedule", resource_id=schedule.id)
        session.commit()
    return schedule


def delete_schedule(session: Session, *, actor: Actor, schedule_id: str) -> None:
    _may_build(actor)
    schedule = get_schedule(session, workspace_id=actor.workspace_id, schedule_id=schedule_id)
    schedules_repo.delete_schedule(session, schedule)
    audit.record(session, workspace_id=actor.workspace_id, actor=actor,
                 action="schedule.deleted", resource_type="schedule", resource_id=schedule_id,
                 details={"workflow_id": schedule.workflow_id, "cron": schedule.cron})
    session.commit()


def _start(session: Session, schedule: Schedule, actor: Actor) -> Started:
    return start_run_and_step(session, workspace_id=schedule.workspace_id,
                              workflow_id=schedule.workflow_id, input=schedule.input,
                              actor=actor, trigger=Trigger.SCHEDULE)


def run_now(session: Session, *, actor: Actor, schedule_id: str) -> Started:
    """Start a run with the schedule's input out of turn (the due times stay as they are);
    the caller commits (it may store an idempotent answer first)."""
    if actor.is_user:
        permissions.require(actor.role, permissions.OPERATE_RUNS)
    schedule = get_schedule(session, workspace_id=actor.workspace_id, schedule_id=schedule_id)
    started = _start(session, schedule, actor)
    now = utcnow()
    schedules_repo.record_fire(session, workspace_id=schedule.workspace_id,
                               schedule_id=schedule.id, kind=FireKind.RUN_NOW, due_at=now,
                               at=now, run_id=started.run.id, detail=actor.display)
    schedules_repo.set_last_run(session, schedule.id, started.run.id)
    return started


def _fire(session: Session, schedule: Schedule, now: datetime) -> str | None:
    """Claim and act on one due schedule; the run id it started, if any."""
    assert schedule.next_fire_at is not None
    due_at = as_utc(schedule.next_fire_at)
    try:
        parsed = _rules(schedule.cron, schedule.timezone)
    except ValidationFailed as exc:  # stored before a rule got stricter: pause, say why
        if schedules_repo.claim_due(session, schedule, following=None, now=now):
            schedules_repo.pause(session, schedule.id)
            schedules_repo.record_fire(
                session, workspace_id=schedule.workspace_id, schedule_id=schedule.id,
                kind=FireKind.FAILED, due_at=due_at, at=now,
                detail=f"paused: {exc.errors[0].message if exc.errors else exc}"[:500])
        return None
    plan = cron_rules.plan_fire(parsed, schedule.timezone, due_at=due_at, now=now,
                                run_missed=schedule.missed_policy == MissedPolicy.RUN_ONCE,
                                grace=MISSED_GRACE)
    if not schedules_repo.claim_due(session, schedule, following=plan.following, now=now):
        return None  # another process took this due time
    kind = FireKind.MISSED if plan.missed else FireKind.FIRED
    fire: dict[str, Any] = {"workspace_id": schedule.workspace_id, "schedule_id": schedule.id,
                            "due_at": due_at, "at": now, "missed": plan.missed}
    if not plan.start:
        schedules_repo.record_fire(session, kind=kind, detail="skipped (policy: skip)", **fire)
        return None
    try:
        with session.begin_nested():
            started = _start(session, schedule, Actor.system(f"schedule:{schedule.id}"))
    except ConcurrencyLimited:  # the workspace is at its limit: this due time waits (until it
        schedules_repo.unclaim(session, schedule.id, due_at=due_at)  # counts as missed)
        return None
    except DomainError as exc:
        schedules_repo.record_fire(session, kind=FireKind.FAILED, detail=str(exc)[:500], **fire)
        return None
    detail = "run once for the missed due times (policy: run_once)" if plan.missed else None
    schedules_repo.record_fire(session, kind=kind, run_id=started.run.id, detail=detail,
                               **fire)
    schedules_repo.set_last_run(session, schedule.id, started.run.id)
    return started.run.id


def fire_due_schedules(session: Session, *, now: datetime | None = None) -> list[str]:
    """Act on every due schedule this process wins, in one transaction; the run ids started."""
    now = now or utcnow()
    started = [run_id for schedule in schedules_repo.due_schedules(
        session, now=now, limit=MAX_DUE_PER_TICK) if (run_id := _fire(session, schedule, now))]
    session.commit()
    return started


def history(session: Session, *, workspace_id: str, schedule_id: str, limit: int = 50,
            before: tuple[datetime, str] | None = None) -> list[FireEntry]:
    get_schedule(session, workspace_id=workspace_id, schedule_id=schedule_id)
    return schedules_repo.history_page(session, schedule_id=schedule_id, limit=limit,
                                       before=before)
