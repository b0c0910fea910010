"""The outbox keeps every email through an SMTP outage, sends each once with one
Message-ID, is expanded once however many processes look, writes to the log (links hidden)
without SMTP_URL, and tells a public form's submitter the outcome."""

from __future__ import annotations

import concurrent.futures
import logging
from datetime import timedelta
from typing import Any

import pytest

from app.clock import utcnow
from app.db import write_session
from app.mail.render import message_id
from app.models import EmailStatus
from app.services import forms, notifications, public_forms
from app.settings import reset_settings
from tests.integration.mail.conftest import outbox, pump
from tests.integration.mail.test_approval_emails import LINK, blocked, flow
from tests.integration.test_approval_delegation import member, vote
from tests.smtp_support import Inbox, free_port, start_server


def test_emails_written_while_smtp_is_down_arrive_once_it_is_back(
        world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there yet
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("SMTP_TIMEOUT_S", "2")
    reset_settings()
    member(world, "ann")
    blocked(world, flow())
    assert pump() == 2
    rows = outbox()
    assert [r.status for r in rows] == [EmailStatus.PENDING] * 2
    assert all(r.attempts == 1 and r.last_error for r in rows)
    first_try = {r.to_addr: r.next_attempt_at for r in rows}
    assert pump() == 0  # not due again before its retry time
    assert pump(now=utcnow() + timedelta(seconds=45)) == 2  # second try: still down
    assert {r.attempts for r in outbox()} == {2}
    inbox = Inbox()
    server = start_server(inbox, port)
    try:
        assert pump(now=utcnow() + timedelta(minutes=5)) == 2
        assert pump(now=utcnow() + timedelta(hours=1)) == 0  # sent: never again
    finally:
        server.stop()
    assert sorted(m["To"] for m in inbox.messages) == ["ann@acme.test", "approver@acme.test"]
    sent = {r.to_addr: r for r in outbox()}
    assert {r.status for r in sent.values()} == {EmailStatus.SENT}
    assert all(sent[m["To"]].message_id == m["Message-ID"] for m in inbox.messages)
    assert all(sent[a].next_attempt_at > first_try[a] for a in first_try)


def test_two_processes_expanding_at_once_make_each_email_once(
        world: Any, smtp: tuple[Inbox, int]) -> None:
    member(world, "ann")
    for _ in range(3):
        blocked(world, flow())

    def expand() -> int:
        with write_session() as session:
            return notifications.expand_pending(
                session, message_id=lambda i: message_id(i, "flowdesk@acme.test"))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        handled = sum(pool.map(lambda _: expand(), range(4)))
    assert handled == 3
    assert len(outbox()) == 6  # two assignees, three items, no copies
    assert pump() == 6 and len(smtp[0].messages) == 6


def test_without_smtp_url_emails_go_to_the_log_with_the_link_hidden(
        world: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("SMTP_URL", raising=False)
    reset_settings()
    with caplog.at_level(logging.INFO, logger="app.mail"):
        blocked(world, flow(assignees=["role:approver"]))
        assert pump() == 1
    (record,) = [r for r in caplog.records if r.name == "app.mail"]
    text = record.getMessage()
    assert "approver@acme.test" in text and "Approval needed: Hiring" in text
    assert "/approval-links/[hidden]" in text and not LINK.search(text)
    assert [r.status for r in outbox()] == [EmailStatus.LOGGED]


def test_a_public_form_submitter_is_told_the_outcome(world: Any,
                                                     smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    fields = [{"name": "Full Name", "type": "text"}, {"name": "Email", "type": "email"}]
    definition = flow(assignees=["role:approver"])
    definition["steps"]["intake"] = {"kind": "input", "fields": fields, "next": "ask"}
    definition["start"] = "intake"
    workflow_id = world.publish(definition, title="Hiring")
    with write_session() as session:
        form = forms.create_form(
            session, workspace_id=world.workspace_id, actor=world.actor, title="Apply",
            workflow_id=workflow_id, is_published=True, fields=fields)
    with write_session() as session:
        submission = public_forms.submit_public_form(
            session, slug=form.slug, client="10.0.0.9",
            data={"Full Name": "Ada", "Email": "ada@example.test"})
    world.drain()
    pump()
    (approval,) = world.approvals(submission.run_id)
    vote(world, approval.id, world.approver)
    world.drain()
    pump()
    (told,) = inbox.to("ada@example.test")
    assert told["Subject"] == "Approved: Hiring"
    assert "/runs/" not in str(told.get_body(("plain",)).get_content())  # not a member
