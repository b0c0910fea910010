"""Schedules as the scheduler job drives them: a due time fires once when two processes look
at the same moment, a paused schedule fires nothing and resumes without counting what passed
as missed, due times missed while down follow the policy (skip or run once), a run that cannot
start is recorded and the schedule moves on; and the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from app.clock import utcnow
from app.db import read_session, write_session
from app.models import FireKind, Run, Schedule, ScheduleFire, Trigger
from app.services import schedules, workflows
from tests.live import PROJECT_ROOT, base_env

REPORT = {"start": "intake", "steps": {
    "intake": {"kind": "input", "fields": [{"name": "team", "type": "text", "required": True}],
               "next": "done"},
    "done": {"kind": "tool", "tool": "set", "args": {"team": "{{ input.team }}"}}}}
RACE = """
import sys, time
from app.db import write_session
from app.services.schedules import fire_due_schedules
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
started = []
for _ in range(20):  # look again and again, as the job does every few seconds
    with write_session() as session:
        started += fire_due_schedules(session)
print(len(started))
"""


def schedule_of(world: Any, cron: str = "0 * * * *", **extra: Any) -> Schedule:
    workflow_id = world.publish(REPORT, title="Report")
    with write_session() as session:
        return schedules.create_schedule(session, workspace_id=world.workspace_id,
                                         workflow_id=workflow_id, cron=cron, actor=world.actor,
                                         input={"team": "sales"}, **extra)


def due(schedule_id: str, ago: timedelta) -> None:
    with write_session() as session:
        session.execute(update(Schedule).where(col(Schedule.id) == schedule_id)
                        .values(next_fire_at=utcnow() - ago))
        session.commit()


def fires_of(schedule_id: str) -> list[ScheduleFire]:
    with read_session() as session:
        return list(session.exec(select(ScheduleFire)
                                 .where(ScheduleFire.schedule_id == schedule_id)).all())


def runs_of(workflow_id: str) -> list[Run]:
    with read_session() as session:
        return list(session.exec(select(Run).where(Run.workflow_id == workflow_id)).all())


def stored(schedule_id: str) -> Schedule:
    with read_session() as session:
        schedule = session.get(Schedule, schedule_id)
        assert schedule is not None
        return schedule


@pytest.mark.slow
def test_a_due_time_fires_once_when_two_processes_look_at_once(world: Any, database: str,
                                                               tmp_path: Path) -> None:
    schedule = schedule_of(world)
    due(schedule.id, timedelta(seconds=2))
    start = time.time() + 2.5  # both processes are up and connected by then
    env = base_env(tmp_path, database)
    racers = [subprocess.Popen([sys.executable, "-c", RACE, str(start)], cwd=PROJECT_ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(2)]
    outputs = [racer.communicate(timeout=60) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers), outputs
    assert sorted(int(out.strip()) for out, _ in outputs) == [0, 1]
    runs = runs_of(schedule.workflow_id)
    assert len(runs) == 1 and runs[0].trigger == Trigger.SCHEDULE
    assert runs[0].input == {"team": "sales"}
    fires = fires_of(schedule.id)
    assert [(f.kind, f.run_id, f.missed) for f in fires] == [(FireKind.FIRED, runs[0].id, 0)]
    after = stored(schedule.id)
    assert after.last_run_id == runs[0].id and after.next_fire_at is not None
    assert after.next_fire_at > utcnow()


def test_paused_fires_nothing_and_resume_counts_nothing_missed(world: Any) -> None:
    schedule = schedule_of(world, cron="* * * * *")
    with write_session() as session:
        paused = schedules.set_enabled(session, actor=world.actor, schedule_id=schedule.id,
                                       enabled=False)
        assert paused.next_fire_at is None
    with write_session() as session:
        assert schedules.fire_due_schedules(session, now=utcnow() + timedelta(hours=5)) == []
    with write_session() as session:
        resumed = schedules.set_enabled(session, actor=world.actor, schedule_id=schedule.id,
                                        enabled=True)
    assert resumed.next_fire_at is not None and resumed.next_fire_at > utcnow()
    assert fires_of(schedule.id) == [] and runs_of(schedule.workflow_id) == []


@pytest.mark.parametrize(("policy", "runs"), [("skip", 0), ("run_once", 1)])
def test_due_times_missed_while_down_follow_the_policy(world: Any, policy: str,
                                                       runs: int) -> None:
    schedule = schedule_of(world, missed_policy=policy)  # hourly
    due(schedule.id, timedelta(hours=3, minutes=1))  # down for three hours
    with write_session() as session:
        started = schedules.fire_due_schedules(session)
    assert len(started) == runs and len(runs_of(schedule.workflow_id)) == runs
    [fire] = fires_of(schedule.id)
    assert fire.kind == FireKind.MISSED and fire.missed == 4  # the first due time, 3 more
    assert fire.run_id == (started[0] if runs else None)
    after = stored(schedule.id)
    assert after.next_fire_at is not None and after.next_fire_at > utcnow()
    with write_session() as session:  # caught up: nothing more until the next due time
        assert schedules.fire_due_schedules(session) == []
    assert len(fires_of(schedule.id)) == 1


def test_a_run_that_cannot_start_is_recorded_and_the_schedule_moves_on(world: Any) -> None:
    schedule = schedule_of(world)
    changed = {**REPORT, "steps": {**REPORT["steps"], "intake": {
        "kind": "input", "next": "done",
        "fields": [{"name": "region", "type": "text", "required": True}]}}}
    with write_session() as session:
        workflows.save_workflow(session, workspace_id=world.workspace_id,
                                workflow_id=schedule.workflow_id, actor=world.actor,
                                expected_version=None, definition=changed)
    with write_session() as session:
        workflows.publish_workflow(session, workspace_id=world.workspace_id,
                                   workflow_id=schedule.workflow_id, actor=world.actor)
    due(schedule.id, timedelta(seconds=1))
    with write_session() as session:
        assert schedules.fire_due_schedules(session) == []
    [fire] = fires_of(schedule.id)
    assert fire.kind == FireKind.FAILED and "region" in (fire.detail or "")
    assert runs_of(schedule.workflow_id) == []
    after = stored(schedule.id)
    assert after.next_fire_at is not None and after.next_fire_at > utcnow()


def cli(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", "schedules", *args],
                          cwd=PROJECT_ROOT, env=base_env(tmp_path, url), capture_output=True,
                          text=True, timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_command_line(world: Any, database: str, tmp_path: Path) -> None:
    workflow_id = world.publish(REPORT, title="Report")
    made = cli(tmp_path, database, "create", workflow_id, "0 9 * * mon-fri", "--timezone",
               "Europe/Berlin", "--input", '{"team": "ops"}', "--workspace",
               world.workspace_id)
    assert made.returncode == 0, made.stderr
    assert "At 09:00, on Monday to Friday" in made.stdout and made.stdout.count("due ") == 5
    schedule_id = made.stdout.split()[0]
    bad = cli(tmp_path, database, "create", workflow_id, "0 9 * *", "--workspace",
              world.workspace_id)
    assert bad.returncode == 2 and "cron: needs 5 fields" in bad.stderr
    listed = cli(tmp_path, database, "list", "--workspace", world.workspace_id)
    assert schedule_id in listed.stdout and "active" in listed.stdout
    paused = cli(tmp_path, database, "pause", schedule_id, "--workspace", world.workspace_id)
    assert paused.returncode == 0 and "paused" in paused.stdout
    ran = cli(tmp_path, database, "run-now", schedule_id, "--workspace", world.workspace_id)
    assert ran.returncode == 0 and "started run run_" in ran.stdout
    fires = cli(tmp_path, database, "fires", schedule_id, "--workspace", world.workspace_id)
    assert "run_now" in fires.stdout


def test_at_the_workspace_limit_a_due_time_waits_then_counts_as_missed(world: Any) -> None:
    from app.models import Workspace

    schedule = schedule_of(world)  # skip policy
    with write_session() as session:
        workspace = session.get(Workspace, world.workspace_id)
        assert workspace is not None
        workspace.max_concurrent_runs = 1
        session.add(workspace)
        session.commit()
    world.trigger(world.publish({"start": "wait", "steps": {"wait": {
        "kind": "approval", "assignees": ["role:admin"]}}}), {})  # one run in progress
    due(schedule.id, timedelta(seconds=1))
    with write_session() as session:
        assert schedules.fire_due_schedules(session) == []
    assert fires_of(schedule.id) == []  # not lost: still due
    assert stored(schedule.id).next_fire_at is not None
    assert stored(schedule.id).next_fire_at < utcnow()  # type: ignore[operator]
    with write_session() as session:  # a minute later it is a missed due time
        assert schedules.fire_due_schedules(session, now=utcnow() + timedelta(minutes=2)) == []
    [fire] = fires_of(schedule.id)
    assert fire.kind == FireKind.MISSED and fire.run_id is None


def test_a_stored_cron_that_no_longer_parses_pauses_with_a_reason(world: Any) -> None:
    schedule = schedule_of(world)
    with write_session() as session:
        session.execute(update(Schedule).where(col(Schedule.id) == schedule.id)
                        .values(cron="0 9 * *", next_fire_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    with write_session() as session:
        assert schedules.fire_due_schedules(session) == []
    after = stored(schedule.id)
    assert after.enabled is False and after.next_fire_at is None
    [fire] = fires_of(schedule.id)
    assert fire.kind == FireKind.FAILED and "paused: needs 5 fields" in (fire.detail or "")
