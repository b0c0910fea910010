"""Approval emails through a real SMTP server (aiosmtpd on loopback), on SQLite and
PostgreSQL: who gets what, the link inside (GET decides nothing, POST decides, a second POST
is refused), reminders and escalations, the requester told the outcome, preferences."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_api
from app.db import write_session
from app.models import ApprovalStatus, EmailStatus, Role, User
from app.services.approval_timers import fire_due_approval_timers
from app.ui.approval_link_pages import router
from tests.integration.mail.conftest import PUBLIC, outbox, pump
from tests.integration.test_approval_delegation import member, vote
from tests.smtp_support import Inbox

LINK = re.compile(re.escape(PUBLIC) + r"(/approval-links/[A-Za-z0-9_.\-]+)")


def flow(**policy: Any) -> dict[str, Any]:
    return {"start": "ask", "steps": {
        "ask": {"kind": "approval", "assignees": ["ann@acme.test", "role:approver"],
                "instructions": "Hire Ada?", "due_in": "48h", "next": "done", **policy},
        "done": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True}}}


def blocked(world: Any, definition: dict[str, Any]) -> tuple[str, str]:
    run_id = world.trigger(world.publish(definition, title="Hiring"), {})
    world.drain()
    return run_id, world.approvals(run_id)[0].id


@pytest.fixture
def client(world: Any) -> Iterator[TestClient]:
    api = create_api()
    api.include_router(router)
    with TestClient(api, raise_server_exceptions=False) as http:
        yield http


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def test_each_assignee_gets_the_new_item_with_a_link_that_decides_only_on_post(
        world: Any, smtp: tuple[Inbox, int], client: TestClient) -> None:
    inbox, _ = smtp
    member(world, "ann")
    run_id, approval_id = blocked(world, flow())
    assert pump() == 2
    assert sorted(m["To"] for m in inbox.messages) == ["ann@acme.test", "approver@acme.test"]
    message = inbox.to("ann@acme.test")[0]
    assert message["Subject"] == "Approval needed: Hiring"
    assert message["From"] == "Flowdesk <flowdesk@acme.test>"
    assert {part.get_content_type() for part in message.iter_parts()} == {
        "text/plain", "text/html"}
    assert "Hire Ada?" in text_of(message) and "Hire Ada?" in str(
        message.get_body(("html",)).get_content())
    rows = {row.to_addr: row for row in outbox()}
    assert message["Message-ID"] == rows["ann@acme.test"].message_id
    assert rows["ann@acme.test"].status == EmailStatus.SENT
    (path,) = LINK.findall(text_of(message))
    page = client.get(path)
    assert page.status_code == 200 and "Approve" in page.text
    assert world.approvals(run_id)[0].status == ApprovalStatus.PENDING  # GET decided nothing
    decided = client.post(path, data={"decision": "approved"})
    assert decided.status_code == 200
    assert world.approvals(run_id)[0].status == ApprovalStatus.APPROVED
    again = client.post(path, data={"decision": "rejected"})
    assert again.status_code == 409 and "already used" in again.text
    assert world.approvals(run_id)[0].status == ApprovalStatus.APPROVED
    world.drain()
    # the admin started the run, signed in: they are told the outcome
    assert pump() == 1
    (told,) = inbox.to("admin@acme.test")
    assert told["Subject"] == "Approved: Hiring" and "ann@acme.test" in text_of(told)
    assert approval_id in {row.approval_id for row in outbox()}


def test_a_reminder_and_an_escalation_arrive(world: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    member(world, "boss", Role.ADMIN)
    blocked(world, flow(assignees=["role:approver"], remind_every="1h",
                        escalate_after="90m", escalate_to=["boss@acme.test"]))
    pump()
    assert [m["Subject"] for m in inbox.messages] == ["Approval needed: Hiring"]
    with write_session() as session:
        fire_due_approval_timers(session, now=world.now() + timedelta(minutes=61))
    pump()
    reminder = inbox.messages[-1]
    assert reminder["To"] == "approver@acme.test"
    assert reminder["Subject"] == "Reminder: still waiting for your approval: Hiring"
    with write_session() as session:
        fire_due_approval_timers(session, now=world.now() + timedelta(minutes=91))
    pump()
    (escalated,) = inbox.to("boss@acme.test")
    assert escalated["Subject"] == "Escalated to you: Hiring"
    assert LINK.search(text_of(escalated))
    assert len(inbox.messages) == 3  # the escalation went to the one it added


def test_a_reminder_skips_who_voted_and_an_item_decided_before_sending_is_skipped(
        world: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    ann = member(world, "ann")
    _, approval_id = blocked(world, flow(mode="all", remind_every="1h"))
    pump()
    vote(world, approval_id, ann)  # ann approves; the role's approver still has to
    with write_session() as session:
        fire_due_approval_timers(session, now=world.now() + timedelta(minutes=61))
    pump()
    assert [m["To"] for m in inbox.messages if m["Subject"].startswith("Reminder")] == [
        "approver@acme.test"]
    with write_session() as session:
        fire_due_approval_timers(session, now=world.now() + timedelta(minutes=121))
    from app.mail.render import message_id
    from app.services import notifications  # expand only: the item is decided before sending

    with write_session() as session:
        notifications.expand_pending(session, message_id=lambda i: message_id(i, "x@acme.test"))
    vote(world, approval_id, world.approver)
    before = len(inbox.messages)
    pump()
    assert len(inbox.messages) == before + 1  # only the decision to the requester
    skipped = [row for row in outbox() if row.status == EmailStatus.SKIPPED]
    assert skipped and all("approved" in (row.last_error or "") for row in skipped)


def test_preferences_none_and_named(world: Any, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    ann = member(world, "ann")
    member(world, "cat")  # an approver by role only
    with write_session() as session:
        for user_id, choice in ((ann.id, "none"), (world.approver_id, "named")):
            user = session.get(User, user_id)
            assert user is not None
            user.email_notifications = choice
            session.add(user)
        session.commit()
    blocked(world, flow())
    pump()
    # ann chose none; approver@ wants only items naming them (this one names their role)
    assert [m["To"] for m in inbox.messages] == ["cat@acme.test"]


def test_a_delegate_is_emailed_and_their_link_works(world: Any, smtp: tuple[Inbox, int],
                                                    client: TestClient) -> None:
    from app.services import approval_delegation

    inbox, _ = smtp
    ann = member(world, "ann")
    member(world, "cat")
    run_id, approval_id = blocked(world, flow(assignees=["ann@acme.test"]))
    pump()
    with write_session() as session:
        approval_delegation.delegate(session, actor=ann, approval_id=approval_id,
                                     to_email="cat@acme.test")
    pump()
    (handed,) = [m for m in inbox.to("cat@acme.test") if m["Subject"].startswith("Delegated")]
    assert "ann@acme.test" in text_of(handed)
    (path,) = LINK.findall(text_of(handed))
    assert client.post(path, data={"decision": "approved"}).status_code == 200
    assert world.approvals(run_id)[0].status == ApprovalStatus.APPROVED


def test_out_of_office_sends_the_delegate_the_pending_and_the_new_items(
        world: Any, smtp: tuple[Inbox, int]) -> None:
    from tests.integration.test_out_of_office import away

    inbox, _ = smtp
    ann = member(world, "ann")
    member(world, "cat")
    blocked(world, flow(assignees=["ann@acme.test"]))
    pump()
    assert [m["To"] for m in inbox.messages] == ["ann@acme.test"]
    away(ann, "cat@acme.test")  # the pending item is handed to cat for the range
    pump()
    (handed,) = inbox.to("cat@acme.test")
    assert handed["Subject"] == "Delegated to you: Hiring"
    blocked(world, flow(assignees=["ann@acme.test"]))  # a new item while ann is away
    pump()
    # one email for the new item, saying why it is cat's; ann, away, is not asked again
    assert [m["Subject"] for m in inbox.to("cat@acme.test")] == [
        "Delegated to you: Hiring"] * 2
    assert "ann@acme.test is out of office until" in text_of(inbox.to("cat@acme.test")[-1])
    assert len(inbox.to("ann@acme.test")) == 1
