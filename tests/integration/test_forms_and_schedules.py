"""Form submissions start runs atomically; schedules fire once even with several processes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from app.clock import utcnow
from app.db import read_session, write_session
from app.errors import Conflict, ValidationFailed
from app.models import Event, Form, FormSubmission, Run, Schedule
from app.services import forms, schedules
from tests.integration.test_engine_flows import ONBOARDING

FIELDS = ONBOARDING["steps"]["intake"]["fields"]


def make_form(world: Any, **extra: Any) -> Form:
    workflow_id = world.publish(ONBOARDING)
    with write_session() as session:
        return forms.create_form(session, workspace_id=world.workspace_id, actor=world.actor,
                                 title="New hire", fields=FIELDS, workflow_id=workflow_id,
                                 is_published=True, **extra)


def test_submission_stores_data_starts_a_run_and_emits_form_submitted(world: Any) -> None:
    form = make_form(world)
    with write_session() as session:
        submission = forms.submit_form(session, form=forms.public_form(session, slug=form.slug),
                                       data={"Full Name": "Jane", "Email": "j@acme.test"},
                                       actor=world.actor)
    assert submission.run_id is not None
    world.drain()
    assert world.run(submission.run_id).status == "BLOCKED"
    with read_session() as session:
        types = [e.type for e in session.exec(select(Event).where(
            Event.run_id == submission.run_id)).all()]
    assert "form.submitted" in types


def test_invalid_submission_names_each_field_and_stores_nothing(world: Any) -> None:
    form = make_form(world)
    with pytest.raises(ValidationFailed) as caught, write_session() as session:
        forms.submit_form(session, form=form, data={"Email": "nope"}, actor=world.actor)
    assert {e.field for e in caught.value.errors} == {"Full Name", "Email"}
    with read_session() as session:
        assert session.exec(select(FormSubmission)).all() == []
        assert session.exec(select(Run)).all() == []


def test_unpublished_form_refuses_submissions(world: Any) -> None:
    form = make_form(world)
    with write_session() as session:
        forms.update_form(session, workspace_id=world.workspace_id, form_id=form.id,
                          actor=world.actor, is_published=False)
    with pytest.raises(Conflict), write_session() as session:
        forms.public_form(session, slug=form.slug)


def test_duplicate_field_names_are_rejected(world: Any) -> None:
    with pytest.raises(ValidationFailed) as caught, write_session() as session:
        forms.create_form(session, workspace_id=world.workspace_id, actor=world.actor,
                          title="Dup", fields=[{"name": "a"}, {"name": "A"}])
    assert caught.value.errors[0].field == "fields[1].name"


def test_due_schedule_fires_exactly_once_when_two_processes_race(world: Any) -> None:
    workflow_id = world.publish({"start": "a", "steps": {
        "a": {"kind": "tool", "tool": "set", "args": {}}}})
    with write_session() as session:
        schedule = schedules.create_schedule(session, workspace_id=world.workspace_id,
                                             workflow_id=workflow_id, cron="*/5 * * * *",
                                             actor=world.actor)
    due = utcnow() - timedelta(seconds=1)
    with write_session() as session:
        session.execute(update(Schedule).where(col(Schedule.id) == schedule.id)
                        .values(next_fire_at=due))
        session.commit()
    with write_session() as first:
        started = schedules.fire_due_schedules(first)
    with write_session() as second:
        again = schedules.fire_due_schedules(second)
    assert len(started) == 1 and again == []
    with read_session() as session:
        stored = session.get(Schedule, schedule.id)
        assert stored is not None and stored.next_fire_at is not None
        assert stored.next_fire_at > utcnow()
        assert stored.last_run_id == started[0]


def test_bad_cron_and_time_zone_are_reported_by_field(world: Any) -> None:
    workflow_id = world.publish({"start": "a", "steps": {
        "a": {"kind": "tool", "tool": "set", "args": {}}}})
    with pytest.raises(ValidationFailed) as caught, write_session() as session:
        schedules.create_schedule(session, workspace_id=world.workspace_id,
                                  workflow_id=workflow_id, cron="61 * * *", timezone="Mars/Base",
                                  actor=world.actor)
    assert {e.field for e in caught.value.errors} == {"cron", "timezone"}
