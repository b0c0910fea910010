"""Files in forms and runs, conditional fields, and published form versions, on a real
database: show_if hides a required field on the server, a submission pins its version, a
run's input refers to uploaded files by id (another workspace's refused), an http step sends
a file as multipart to a loopback receiver, and uploads nothing referenced are removed."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.db import read_session, write_session
from app.errors import ValidationFailed
from app.models import Actor, AuditLog, Run, RunStatus, StoredFile
from app.services import accounts, approvals, files, form_builder, forms, public_forms, retention
from app.settings import get_settings
from app.webhooks.outbound import client_for_settings
from tests.receiver import Reply, serve
from tests.support import World

PDF = b"%PDF-1.4\n" + b"x" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
LIMITER = public_forms.SubmissionLimiter(10_000, 60)
FIELDS = [
    {"name": "reason", "type": "select", "required": True, "options": ["travel", "other"]},
    {"name": "details", "type": "text", "required": True, "show_if": 'reason == "other"'},
    {"name": "receipt", "type": "file", "page": 2, "accept": ["application/pdf"],
     "max_bytes": 1000},
]
PAGES = [{"title": "Request"}, {"title": "Attachments"}]


@pytest.fixture
def world(database: str) -> Iterator[World]:
    client = client_for_settings(get_settings())
    yield World.create(http=client)
    client.close()


def _form(world: World, **extra: Any) -> Any:
    with write_session() as session:
        return forms.create_form(session, workspace_id=world.workspace_id, actor=world.actor,
                                 title="Claim", fields=FIELDS, pages=PAGES, **extra)


def _upload(actor: Actor, data: bytes, name: str = "doc.pdf") -> StoredFile:
    with write_session() as session:
        return files.upload(session, actor=actor, name=name, data=data)


def _submit(slug: str, data: dict[str, Any]) -> Any:
    with write_session() as session:
        return public_forms.submit_public_form(session, slug=slug, data=data, client="t",
                                               limiter=LIMITER)


def _public_upload(slug: str, data: bytes, name: str = "r.pdf",
                   field: str = "receipt") -> public_forms.UploadedFile:
    with write_session() as session:
        return public_forms.upload_to_public_form(session, slug=slug, field_name=field,
                                                  name=name, data=data, client="t",
                                                  limiter=LIMITER)


def test_show_if_hides_a_required_field_on_the_server(world: World) -> None:
    form = _form(world, is_published=True)
    with pytest.raises(ValidationFailed) as refused:
        _submit(form.slug, {"reason": "other"})
    assert [(e.field, e.code) for e in refused.value.errors] == [("details", "required")]
    # Hidden: neither required nor stored, even when a stale value is sent.
    receipt = _submit(form.slug, {"reason": "travel", "details": "left over"})
    with read_session() as session:
        page = forms.forms_repo.list_submissions(session, form_id=form.id, limit=5)
    assert receipt.submission_id == page[0].id and page[0].data == {"reason": "travel"}


def test_a_submission_pins_the_version_it_was_made_on(world: World) -> None:
    form = _form(world, is_published=True)
    _submit(form.slug, {"reason": "travel"})
    changed = [*FIELDS, {"name": "cost", "type": "number", "required": True}]
    with write_session() as session:
        forms.update_form(session, workspace_id=world.workspace_id, form_id=form.id,
                          actor=world.actor, fields=changed)
    # The draft changed; the public page still serves version 1.
    _submit(form.slug, {"reason": "travel"})
    with write_session() as session:
        live = forms.publish_form(session, workspace_id=world.workspace_id, form_id=form.id,
                                  actor=world.actor)
    assert live.published_version == 2
    with pytest.raises(ValidationFailed):
        _submit(form.slug, {"reason": "travel"})
    _submit(form.slug, {"reason": "travel", "cost": "12.5"})
    with read_session() as session:
        made = forms.forms_repo.list_submissions(session, form_id=form.id, limit=10)
        versions = forms.forms_repo.list_versions(session, form.id)
        view = public_forms.load_public_form(session, slug=form.slug)
    assert [s.form_version for s in made] == [2, 1, 1]
    assert made[0].data["cost"] == 12.5
    assert [v.number for v in versions] == [2, 1]
    assert [f["name"] for f in versions[1].fields] == ["reason", "details", "receipt"]
    assert view.version == 2 and [p["title"] for p in view.pages] == ["Request", "Attachments"]
    # Publishing an unchanged draft makes no new version.
    with write_session() as session:
        again = forms.publish_form(session, workspace_id=world.workspace_id, form_id=form.id,
                                   actor=world.actor)
    assert again.published_version == 2


def test_form_definitions_are_checked(world: World) -> None:
    bad = [{"name": "a", "type": "text", "show_if": 'b == "x"'},
           {"name": "b", "type": "text", "page": 3},
           {"name": "c", "type": "text", "accept": ["application/pdf"]},
           {"name": "d", "type": "file", "accept": ["pdf"]}]
    with pytest.raises(ValidationFailed) as refused:
        with write_session() as session:
            forms.create_form(session, workspace_id=world.workspace_id, actor=world.actor,
                              title="Bad", fields=bad, pages=PAGES)
    fields = {e.field: e.message for e in refused.value.errors}
    assert "fields[1].page" in fields and "2 page" in fields["fields[1].page"]
    assert "file fields only" in fields["fields[2]"]
    assert "is not a content type" in fields["fields[3]"]
    with pytest.raises(ValidationFailed) as later:
        with write_session() as session:
            forms.create_form(session, workspace_id=world.workspace_id, actor=world.actor,
                              title="Bad", fields=[bad[0], {"name": "b", "type": "text"}])
    assert [(e.field, e.message) for e in later.value.errors] == [
        ("fields[0].show_if", "'b' is not an earlier field")]


def test_public_uploads_follow_the_field_limits_and_belong_to_one_submission(
        world: World) -> None:
    form = _form(world, is_published=True)
    with pytest.raises(ValidationFailed) as wrong_type:
        _public_upload(form.slug, PNG, name="receipt.pdf")  # the name lies; the bytes don't
    assert wrong_type.value.errors[0].field == "receipt"
    assert "image/png" in wrong_type.value.errors[0].message
    with pytest.raises(ValidationFailed) as too_big:
        _public_upload(form.slug, b"%PDF-" + b"x" * 2000)
    assert "limit of 1000 bytes" in too_big.value.errors[0].message
    with pytest.raises(ValidationFailed) as not_a_file_field:
        _public_upload(form.slug, PDF, field="details")
    assert not_a_file_field.value.errors[0].field == "details"

    stored = _public_upload(form.slug, PDF)
    _submit(form.slug, {"reason": "travel", "receipt": stored.id})
    with read_session() as session:
        [made] = forms.forms_repo.list_submissions(session, form_id=form.id, limit=5)
        row = session.get(StoredFile, stored.id)
    assert made.data["receipt"] == {"id": stored.id, "name": "r.pdf", "size": len(PDF),
                                    "content_type": "application/pdf",
                                    "sha256": row.sha256 if row else ""}
    assert row is not None and row.submission_id == made.id
    # The same upload cannot be attached to a second anonymous submission, nor can a file
    # the workspace holds for other reasons.
    member_file = _upload(world.actor, PDF)
    for file_id in (stored.id, member_file.id):
        with pytest.raises(ValidationFailed) as refused:
            _submit(form.slug, {"reason": "travel", "receipt": file_id})
        assert refused.value.errors[0].field == "receipt"


def _file_flow(url: str) -> dict[str, Any]:
    return {"start": "in", "steps": {
        "in": {"kind": "input", "next": "send", "fields": [
            {"name": "title", "type": "text", "required": True},
            {"name": "attachment", "type": "file", "required": True,
             "accept": ["application/pdf"]}]},
        "send": {"kind": "http", "method": "POST", "url": url,
                 "body": {"title": "{{ input.title }}", "n": 3},
                 "files": {"document": "{{ input.attachment }}"}}}}


def test_run_input_refers_to_files_and_an_http_step_sends_one_as_multipart(
        world: World) -> None:
    uploaded = _upload(world.actor, PDF, name="contract.pdf")
    with serve(Reply(200, {"ok": True})) as receiver:
        workflow_id = world.publish(_file_flow(receiver.url + "/upload"))
        run_id = world.trigger(workflow_id, {"title": "Q4", "attachment": uploaded.id})
        world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.input["attachment"]["name"] == "contract.pdf"
    assert run.outputs["send"]["status"] == 200
    (request,) = receiver.received
    assert request.headers["content-type"].startswith("multipart/form-data")
    message = email.message_from_bytes(
        b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n"
        + request.body, policy=email.policy.default)
    parts = {part.get_param("name", header="content-disposition"): part
             for part in message.iter_parts()}
    assert parts["document"].get_filename() == "contract.pdf"
    assert parts["document"].get_content_type() == "application/pdf"
    assert parts["document"].get_payload(decode=True) == PDF
    assert parts["title"].get_content().strip() == "Q4" and parts["n"].get_content() == "3"
    with read_session() as session:
        row = session.get(StoredFile, uploaded.id)
        shown = files.file_rows(session, workspace_id=world.workspace_id,
                                values=[run.input, run.outputs])
    assert row is not None and row.run_id == run_id
    assert [f["name"] for f in shown] == ["contract.pdf"]
    assert shown[0]["download_path"].startswith("/api/v1/files/download?token=")


def test_a_file_of_another_workspace_or_of_the_wrong_type_is_refused(world: World) -> None:
    with write_session() as session:
        other = accounts.create_workspace(session, name="Other", actor=Actor.system("tests"))
    theirs = _upload(Actor.api_key(key_id="k", prefix="fd_k", workspace_id=other.id,
                                   scopes=frozenset()), PDF)
    image = _upload(world.actor, PNG, name="x.png")
    workflow_id = world.publish(_file_flow("http://127.0.0.1:9/"))
    for file_id, message in ((theirs.id, "was not found"), (image.id, "image/png"),
                             ("not-an-id", "id of an uploaded file")):
        with pytest.raises(ValidationFailed) as refused:
            world.trigger(workflow_id, {"title": "x", "attachment": file_id})
        [problem] = refused.value.errors
        assert problem.field == "input.attachment" and message in problem.message


def test_uploads_nothing_referenced_are_removed_after_a_day(world: World) -> None:
    kept = _upload(world.actor, PDF)
    workflow_id = world.publish(_file_flow("http://127.0.0.1:9/"))
    world.trigger(workflow_id, {"title": "x", "attachment": kept.id})
    orphan = _upload(world.actor, PDF, name="never-used.pdf")
    later = files.utcnow() + files.ORPHAN_AFTER + timedelta(minutes=1)
    with write_session() as session:
        assert files.purge_orphans(session, now=files.utcnow()) == 0
    with write_session() as session:
        assert files.purge_orphans(session, now=later) == 1
    with read_session() as session:
        assert session.get(StoredFile, orphan.id) is None
        assert session.get(StoredFile, kept.id) is not None
    assert not files.get_storage().exists(orphan.storage_key)
    assert files.get_storage().exists(kept.storage_key)


def test_the_builder_warns_when_the_form_can_leave_out_what_the_workflow_requires(
        world: World) -> None:
    workflow_id = world.publish(_file_flow("http://127.0.0.1:9/"))
    fields = [{"name": "title", "type": "text", "show_if": "1 == 1", "required": True},
              {"name": "attachment", "type": "text", "required": True}]
    with read_session() as session:
        warnings = form_builder.mapping_warnings(session, workspace_id=world.workspace_id,
                                                 fields=fields, workflow_id=workflow_id,
                                                 field_map={})
    assert any("requires 'title'" in w and "conditional" in w for w in warnings), warnings
    assert any("'attachment' is text but the workflow input 'attachment' is file" in w
               for w in warnings), warnings


def test_run_retention_deletes_old_finished_runs_with_their_files(world: World) -> None:
    flow = {"start": "in", "steps": {
        "in": {"kind": "input", "next": "ask", "fields": [
            {"name": "attachment", "type": "file", "required": True}]},
        "ask": {"kind": "approval", "assignees": ["role:approver"], "done": True}}}
    workflow_id = world.publish(flow)
    old = _upload(world.actor, PDF)
    finished = world.trigger(workflow_id, {"attachment": old.id})
    kept = world.trigger(workflow_id, {"attachment": _upload(world.actor, PDF).id})
    world.drain()
    [approval] = world.approvals(finished)
    with write_session() as session:
        approvals.decide_approval(session, workspace_id=world.workspace_id,
                                  approval_id=approval.id, decision="approved",
                                  actor=world.approver)
    assert world.run(finished).status == RunStatus.COMPLETED
    later = files.utcnow() + timedelta(days=31)
    with write_session() as session:
        assert retention.purge_expired_runs(session, now=later, days=0) == 0  # 0: kept
    with write_session() as session:
        assert retention.purge_expired_runs(session, now=files.utcnow(), days=30) == 0
    with write_session() as session:
        assert retention.purge_expired_runs(session, now=later, days=30) == 1
    with read_session() as session:
        assert session.get(Run, finished) is None and session.get(StoredFile, old.id) is None
        assert session.get(Run, kept) is not None  # BLOCKED: not finished, kept
        [entry] = session.exec(select(AuditLog).where(AuditLog.action == "runs.purged")).all()
    assert entry.details == {"count": 1, "retention_days": 30}
    assert not files.get_storage().exists(old.storage_key)
    assert world.approvals(finished) == []


def test_a_file_reaches_a_sub_workflow_and_a_rerun_keeps_it(world: World) -> None:
    child = world.publish({"start": "in", "steps": {
        "in": {"kind": "input", "next": "name", "fields": [
            {"name": "doc", "type": "file", "required": True}]},
        "name": {"kind": "tool", "tool": "set", "args": {"got": "{{ input.doc.name }}"},
                 "done": True}}}, title="Child")
    parent = world.publish({"start": "in", "steps": {
        "in": {"kind": "input", "next": "call", "fields": [
            {"name": "doc", "type": "file", "required": True}]},
        "call": {"kind": "subworkflow", "workflow_id": child,
                 "input": {"doc": "{{ input.doc }}"}, "done": True}}}, title="Parent")
    uploaded = _upload(world.actor, PDF, name="deed.pdf")
    run_id = world.trigger(parent, {"doc": uploaded.id})
    world.drain()
    run = world.run(run_id)
    assert run.status == RunStatus.COMPLETED, run.error
    assert run.outputs["call"]["outputs"]["name"]["got"] == "deed.pdf"
    # A run started again with the stored reference (as a re-run copies input) validates.
    again = world.trigger(parent, {"doc": run.input["doc"]})
    world.drain()
    assert world.run(again).status == RunStatus.COMPLETED
