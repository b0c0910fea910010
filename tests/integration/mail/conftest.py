"""Email tests: a real SMTP server on loopback, and a pump that runs the mailer's two
halves (events → outbox rows, due rows → SMTP) as the background job does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from app.db import read_session, write_session
from app.mail.render import message_id
from app.mail.sender import Sender, sender_for_settings
from app.models import OutboundEmail
from app.services import mail_outbox, notifications
from app.settings import get_settings, reset_settings
from tests.smtp_support import Inbox, free_port, start_server

PUBLIC = "http://flowdesk.test"


@pytest.fixture
def smtp(world: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Inbox, int]]:
    """A plain SMTP server, and SMTP_URL pointing at it."""
    inbox, port = Inbox(), free_port()
    controller = start_server(inbox, port)
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("MAIL_FROM", "Flowdesk <flowdesk@acme.test>")
    reset_settings()
    yield inbox, port
    controller.stop()


def sender() -> Sender:
    return sender_for_settings(get_settings())


def pump(now: datetime | None = None, mailer: Sender | None = None) -> int:
    """One pass of the mailer: returns the emails attempted."""
    mailer = mailer or sender()
    with write_session() as session:
        notifications.expand_pending(
            session, message_id=lambda email_id: message_id(email_id, mailer.mail_from))
    with write_session() as session:
        return mail_outbox.send_due(session, mailer, public_url=PUBLIC, now=now)


def outbox() -> list[OutboundEmail]:
    from sqlmodel import col, select

    with read_session() as session:
        return list(session.exec(select(OutboundEmail)
                                 .order_by(col(OutboundEmail.created_at))).all())
