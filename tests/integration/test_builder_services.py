"""The builder's and form pages' services: test runs of drafts, import/export, versions,
submissions with CSV, and the public form's per-client limit."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from app.db import read_session, write_session
from app.errors import Conflict, NotFound, RateLimited, ValidationFailed
from app.services import builder, form_builder, forms, public_forms, submissions, workflows
from tests.integration.test_engine_flows import ONBOARDING

SEED_FLOW = {
    "start": {"tool": "set", "args": {"x": 1}, "next": "gate"},
    "gate": {"tool": None, "done": True},
}


def _draft(world: Any, definition: Any = None, title: str = "Draft") -> str:
    with write_session() as session:
        return workflows.create_workflow(session, workspace_id=world.workspace_id,
                                         actor=world.actor, title=title,
                                         definition=definition or ONBOARDING,
                                         allow_invalid=True).id


def test_a_test_run_of_an_unpublished_draft_pins_a_snapshot_outside_the_versions(
        world: Any) -> None:
    workflow_id = _draft(world)
    with write_session() as session:
        run = builder.start_draft_test_run(session, workspace_id=world.workspace_id,
                                           workflow_id=workflow_id, actor=world.actor,
                                           input={"Full Name": "Ann", "Email": "a@acme.test"})
    assert run.version_number == -1 and run.trigger == "ui"
    world.drain()
    assert world.run(run.id).status == "BLOCKED"
    with write_session() as session:
        version = workflows.publish_workflow(session, workspace_id=world.workspace_id,
                                             workflow_id=workflow_id, actor=world.actor)
    assert version.number == 1
    with write_session() as session:
        again = builder.start_draft_test_run(session, workspace_id=world.workspace_id,
                                             workflow_id=workflow_id, actor=world.actor,
                                             input={"Full Name": "Bo", "Email": "b@acme.test"})
        assert again.version_number == -2
        rows = builder.version_rows(session, workspace_id=world.workspace_id,
                                    workflow_id=workflow_id)
    assert [r.number for r in rows] == [1]


def test_a_test_run_refuses_a_draft_with_problems_and_bad_input(world: Any) -> None:
    broken = json.loads(json.dumps(ONBOARDING))
    broken["steps"]["intake"]["next"] = "nowhere"
    workflow_id = _draft(world, broken)
    with pytest.raises(ValidationFailed) as caught, write_session() as session:
        builder.start_draft_test_run(session, workspace_id=world.workspace_id,
                                     workflow_id=workflow_id, actor=world.actor, input={})
    assert any("nowhere" in e.message for e in caught.value.errors)
    fine = _draft(world)
    with pytest.raises(ValidationFailed) as caught, write_session() as session:
        builder.start_draft_test_run(session, workspace_id=world.workspace_id,
                                     workflow_id=fine, actor=world.actor, input={"Email": "x"})
    assert {e.field for e in caught.value.errors} == {"input.Full Name", "input.Email"}


def test_import_accepts_an_export_a_definition_and_a_seed_004_flow(world: Any) -> None:
    source = _draft(world, title="Onboarding")
    with write_session() as session:
        document = builder.export_document(session, workspace_id=world.workspace_id,
                                           workflow_id=source)
        copied = builder.import_workflow(session, workspace_id=world.workspace_id,
                                         actor=world.actor, text=json.dumps(document))
    assert copied.title == "Onboarding" and copied.definition == document["definition"]
    with write_session() as session:
        seed = builder.import_workflow(session, workspace_id=world.workspace_id,
                                       actor=world.actor, text=json.dumps(SEED_FLOW),
                                       title="Seed")
    assert seed.definition["steps"]["gate"]["kind"] == "signal"
    with pytest.raises(ValidationFailed, match="not valid JSON"), write_session() as session:
        builder.import_workflow(session, workspace_id=world.workspace_id, actor=world.actor,
                                text="{nope")


def test_duplicate_lists_runs_and_restore_refuses_a_stale_draft(world: Any) -> None:
    workflow_id = world.publish(ONBOARDING, title="Onboarding")
    world.trigger(workflow_id, {"Full Name": "Ann", "Email": "a@acme.test"})
    with write_session() as session:
        copy = builder.duplicate_workflow(session, workspace_id=world.workspace_id,
                                          workflow_id=workflow_id, actor=world.actor)
        rows = builder.list_workflow_rows(session, workspace_id=world.workspace_id)
    by_id = {r.id: r for r in rows}
    assert by_id[copy.id].title == "Copy of Onboarding" and by_id[copy.id].status == "draft"
    assert by_id[workflow_id].run_count == 1 and by_id[workflow_id].last_run_at is not None
    with write_session() as session:
        restored = builder.restore_version(session, workspace_id=world.workspace_id,
                                           workflow_id=workflow_id, number=1,
                                           actor=world.actor, expected_version=1)
    assert restored.version == 2
    with pytest.raises(Conflict), write_session() as session:
        builder.restore_version(session, workspace_id=world.workspace_id,
                                workflow_id=workflow_id, number=1, actor=world.actor,
                                expected_version=1)
    with pytest.raises(NotFound), read_session() as session:
        builder.version_definition(session, workspace_id=world.workspace_id,
                                   workflow_id=workflow_id, number=-1)


def _form(world: Any) -> Any:
    workflow_id = world.publish(ONBOARDING)
    with write_session() as session:
        form = form_builder.new_form(session, workspace_id=world.workspace_id,
                                     actor=world.actor, title="Hire", workflow_id=workflow_id)
    with write_session() as session:
        return forms.update_form(session, workspace_id=world.workspace_id, form_id=form.id,
                                 actor=world.actor, is_published=True)


def test_a_new_form_takes_its_workflows_inputs_and_warns_on_a_mismatch(world: Any) -> None:
    form = _form(world)
    assert [f["name"] for f in form.fields] == ["Full Name", "Email"]
    with read_session() as session:
        assert form_builder.mapping_warnings(session, workspace_id=world.workspace_id,
                                             fields=form.fields, workflow_id=form.workflow_id,
                                             field_map={}) == []
        warnings = form_builder.mapping_warnings(
            session, workspace_id=world.workspace_id, fields=[{"name": "Name"}],
            workflow_id=form.workflow_id, field_map={})
    assert any("Full Name" in w for w in warnings) and any("Name" in w for w in warnings)


def test_submissions_page_and_csv_show_data_and_runs(world: Any) -> None:
    form = _form(world)
    for i in range(3):
        with write_session() as session:
            public_forms.submit_public_form(
                session, slug=form.slug, client=f"10.0.0.{i}",
                data={"Full Name": f"=HYPERLINK({i})", "Email": f"p{i}@acme.test"})
    with read_session() as session:
        page = submissions.submission_page(session, workspace_id=world.workspace_id,
                                           form_id=form.id, limit=2)
        rest = submissions.submission_page(session, workspace_id=world.workspace_id,
                                           form_id=form.id, limit=2, before=page.next_before)
        text = submissions.submissions_csv(session, workspace_id=world.workspace_id,
                                           form_id=form.id)
    assert page.total == 3 and len(page.rows) == 2 and len(rest.rows) == 1
    assert rest.next_before is None and page.rows[0].run_status == "IN_PROGRESS"
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["submitted_at", "submission_id", "form_version", "Full Name", "Email",
                       "run_id", "run_status"]
    assert len(rows) == 4 and rows[1][3].startswith("'=HYPERLINK")


def test_public_submissions_are_limited_per_client(world: Any) -> None:
    form = _form(world)
    now = [0.0]
    limiter = public_forms.SubmissionLimiter(2, 60, clock=lambda: now[0])
    data = {"Full Name": "Ann", "Email": "a@acme.test"}
    for _ in range(2):
        with write_session() as session:
            public_forms.submit_public_form(session, slug=form.slug, data=data, client="a",
                                            limiter=limiter)
    with pytest.raises(RateLimited, match="try again in 60 s"), write_session() as session:
        public_forms.submit_public_form(session, slug=form.slug, data=data, client="a",
                                        limiter=limiter)
    with write_session() as session:
        receipt = public_forms.submit_public_form(session, slug=form.slug, data=data,
                                                  client="b", limiter=limiter)
        status = public_forms.run_status_of_submission(session, slug=form.slug,
                                                       run_id=receipt.run_id or "")
    assert status == "IN_PROGRESS"
    now[0] = 61.0
    with write_session() as session:
        public_forms.submit_public_form(session, slug=form.slug, data=data, client="a",
                                        limiter=limiter)
