"""A member's email preference (validated, audited) and the admin's view of the outbox."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.db import read_session, write_session
from app.errors import Forbidden, ValidationFailed
from app.models import AuditLog, EmailStatus
from app.services import notification_settings
from tests.integration.mail.conftest import pump
from tests.integration.mail.test_approval_emails import blocked, flow
from tests.smtp_support import Inbox


def test_a_member_chooses_their_emails_and_a_bad_choice_names_the_field(world: Any) -> None:
    with read_session() as session:
        assert notification_settings.my_preference(session, actor=world.approver) == "all"
    with write_session() as session, pytest.raises(ValidationFailed) as bad:
        notification_settings.set_my_preference(session, actor=world.approver, choice="some")
    assert bad.value.errors[0].field == "email_notifications"
    with write_session() as session:
        notification_settings.set_my_preference(session, actor=world.approver, choice="none")
    with read_session() as session:
        assert notification_settings.my_preference(session, actor=world.approver) == "none"
        logged = session.exec(select(AuditLog).where(
            AuditLog.action == "user.email_notifications")).one()
    assert logged.details == {"from": "all", "to": "none"}


def test_admins_see_the_outbox_and_others_do_not(world: Any, smtp: tuple[Inbox, int]) -> None:
    blocked(world, flow(assignees=["role:approver"]))
    pump()
    with read_session() as session:
        rows = notification_settings.recent_emails(session, actor=world.actor)
        with pytest.raises(Forbidden):
            notification_settings.recent_emails(session, actor=world.approver)
    assert [(r.to_addr, r.kind, r.status) for r in rows] == [
        ("approver@acme.test", "new item", EmailStatus.SENT)]
    assert rows[0].subject == "Approval needed: Hiring"
    mode, text = notification_settings.delivery_summary()
    assert mode == "smtp" and "127.0.0.1" in text


def test_the_page_says_where_email_goes_without_or_with_a_bad_smtp_url(
        world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.settings import reset_settings

    monkeypatch.delenv("SMTP_URL", raising=False)
    reset_settings()
    mode, text = notification_settings.delivery_summary()
    assert mode == "log" and "written to the server log" in text
    monkeypatch.setenv("SMTP_URL", "smtp://mailer:hunter2@")
    reset_settings()
    mode, text = notification_settings.delivery_summary()
    assert mode == "broken" and "no host" in text and "hunter2" not in text
