"""What the Schedules page reads and writes, as plain rows: schedules, their fires, a schedule
loaded for editing, and the service calls the page's events make (no Reflex state here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.clock import iso
from app.db import read_session, write_session
from app.errors import DomainError
from app.models import Schedule
from app.services import form_builder, schedules, workflows

INPUT_PREFIX = "input."  # the form's names for the run's input fields (never clash with ours)


@dataclass
class ScheduleRow:
    id: str
    name: str
    cron: str
    description: str
    timezone: str
    next_due: str  # in the schedule's own zone; empty while paused
    enabled: bool
    missed_policy: str
    last_run_id: str


@dataclass
class FireRow:
    id: str
    kind: str
    due_at: str
    at: str
    missed: int
    run_id: str
    run_status: str
    detail: str


def in_zone(moment: datetime, zone: str) -> str:
    """A due time as the schedule's zone reads it: "Mon 2026-12-07 09:00 CET"."""
    try:
        local = moment.astimezone(ZoneInfo(zone))
    except (ValueError, KeyError):
        local = moment
    return local.strftime("%a %Y-%m-%d %H:%M %Z")


def _row(schedule: Schedule) -> ScheduleRow:
    try:
        description = schedules.timing_of(schedule).description
    except DomainError as exc:  # stored before a rule got stricter
        description = f"invalid: {exc}"
    nxt = schedule.next_fire_at
    return ScheduleRow(
        id=schedule.id, name=schedule.name or "(unnamed)", cron=schedule.cron,
        description=description, timezone=schedule.timezone,
        next_due=in_zone(nxt.replace(tzinfo=nxt.tzinfo or ZoneInfo("UTC")), schedule.timezone)
        if nxt and schedule.enabled else "",
        enabled=schedule.enabled, missed_policy=schedule.missed_policy,
        last_run_id=schedule.last_run_id or "")


def _input_specs(specs: list[Any]) -> list[dict[str, Any]]:
    """The workflow's input fields as the form renders them, named `input.<field>` (the names
    the service's errors use), labelled with the field's own label or name."""
    shown = []
    for spec in specs:
        data = spec.model_dump(exclude_none=True)
        data["label"] = data.get("label") or data["name"]
        data["name"] = INPUT_PREFIX + data["name"]
        shown.append(data)
    return shown


def load_page(workspace_id: str, workflow_id: str) -> dict[str, Any]:
    with read_session() as session:
        workflow = workflows.get_workflow(session, workspace_id=workspace_id,
                                          workflow_id=workflow_id)
        specs = form_builder.workflow_inputs(session, workspace_id=workspace_id,
                                             workflow_id=workflow_id)
        rows = [_row(s) for s in schedules.list_schedules(
            session, workspace_id=workspace_id, workflow_id=workflow_id)]
    return {"title": workflow.title, "published": workflow.published_number is not None,
            "fields": _input_specs(specs), "rows": rows}


def load_rows(workspace_id: str, workflow_id: str) -> list[ScheduleRow]:
    with read_session() as session:
        return [_row(s) for s in schedules.list_schedules(
            session, workspace_id=workspace_id, workflow_id=workflow_id)]


def load_history(workspace_id: str, schedule_id: str) -> list[FireRow]:
    with read_session() as session:
        entries = schedules.history(session, workspace_id=workspace_id, schedule_id=schedule_id)
    return [FireRow(id=e.fire.id, kind=e.fire.kind, due_at=iso(e.fire.due_at) or "",
                    at=iso(e.fire.at) or "", missed=e.fire.missed, run_id=e.fire.run_id or "",
                    run_status=e.run_status or "", detail=e.fire.detail or "")
            for e in entries]


def write(fn: Any, **kwargs: Any) -> Any:
    with write_session() as session:
        return fn(session, **kwargs)


def start_now(session: Any, *, actor: Any, schedule_id: str) -> str:
    """run_now leaves the commit to its caller; the new run's id."""
    run_id = schedules.run_now(session, actor=actor, schedule_id=schedule_id).run.id
    session.commit()
    return run_id


def load_for_edit(workspace_id: str, schedule_id: str) -> dict[str, Any]:
    """A schedule's editable properties as the form shows them (input values as text)."""
    with read_session() as session:
        schedule = schedules.get_schedule(session, workspace_id=workspace_id,
                                          schedule_id=schedule_id)
    return {"name": schedule.name, "cron": schedule.cron, "timezone": schedule.timezone,
            "missed_policy": schedule.missed_policy,
            "input": {INPUT_PREFIX + k: _as_text(v) for k, v in (schedule.input or {}).items()}}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else ""
    return "" if value is None else str(value)


def form_input(form: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix(INPUT_PREFIX): v for k, v in form.items()
            if k.startswith(INPUT_PREFIX) and v not in ("", None)}


def save_new(session: Any, **values: Any) -> str:
    return schedules.create_schedule(session, **values).id


def save_changes(session: Any, **values: Any) -> str:
    return schedules.update_schedule(session, **values).id
