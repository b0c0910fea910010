"""The SMTP transport against a real server on loopback: STARTTLS with a password, implicit
TLS, a password never sent in clear, and failures told apart (retry later, or for good)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from app.mail.transport import SendFailed, SmtpUrlError, parse_smtp_url, send
from tests.smtp_support import Inbox, free_port, self_signed, start_server


def message(to: str = "ann@acme.test") -> EmailMessage:
    out = EmailMessage()
    out["From"], out["To"], out["Subject"] = "flowdesk@acme.test", to, "Hello"
    out["Message-ID"] = "<eml_1@acme.test>"
    out.set_content("hi")
    return out


def test_smtp_url_parts_and_clear_refusals() -> None:
    config = parse_smtp_url("smtp://mail%40acme:p%2Fss@mail.acme.test")
    assert (config.host, config.port, config.username, config.password) == (
        "mail.acme.test", 587, "mail@acme", "p/ss")
    assert "p/ss" not in repr(config) and "p/ss" not in config.describe()
    assert parse_smtp_url("smtps://mail.acme.test").port == 465
    for bad, says in (("http://x", "smtp://"), ("smtp://", "no host"),
                      ("smtp://h:99999", "port")):
        with pytest.raises(SmtpUrlError, match=says):
            parse_smtp_url(bad)


def test_starttls_with_a_password(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    inbox, port = Inbox(), free_port()
    server = start_server(inbox, port, starttls=(cert, key), login=("mailer", "s3cret"))
    try:
        good = parse_smtp_url(f"smtp://mailer:s3cret@127.0.0.1:{port}", ca_file=str(cert))
        send(good, message())
        assert [m["Message-ID"] for m in inbox.messages] == ["<eml_1@acme.test>"]
        wrong = parse_smtp_url(f"smtp://mailer:nope@127.0.0.1:{port}", ca_file=str(cert))
        with pytest.raises(SendFailed, match="user name or password") as refused:
            send(wrong, message())
        assert not refused.value.permanent  # fixed by the admin, then retried
        untrusted = parse_smtp_url(f"smtp://mailer:s3cret@127.0.0.1:{port}")
        with pytest.raises(SendFailed, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            send(untrusted, message())
    finally:
        server.stop()
    assert len(inbox.messages) == 1


def test_implicit_tls(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    inbox, port = Inbox(), free_port()
    server = start_server(inbox, port, implicit_tls=(cert, key))
    try:
        send(parse_smtp_url(f"smtps://127.0.0.1:{port}", ca_file=str(cert)), message())
    finally:
        server.stop()
    assert len(inbox.messages) == 1


def test_a_password_is_never_sent_without_tls() -> None:
    inbox, port = Inbox(), free_port()
    server = start_server(inbox, port)  # no STARTTLS offered
    try:
        with pytest.raises(SendFailed, match="refusing to send the password"):
            send(parse_smtp_url(f"smtp://mailer:s3cret@127.0.0.1:{port}"), message())
        send(parse_smtp_url(f"smtp://127.0.0.1:{port}"), message())  # no password: plain
    finally:
        server.stop()
    assert len(inbox.messages) == 1


def test_a_server_that_is_down_fails_for_now_not_for_good() -> None:
    with pytest.raises(SendFailed) as down:
        send(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}", timeout_s=2), message())
    assert not down.value.permanent
