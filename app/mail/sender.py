"""Where a process's email goes: the SMTP server of SMTP_URL, or (without one) the log.

The log fallback writes who, what and the plain-text body, with every secret the caller
names (the signed link's token) replaced, so a log never holds a working link.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from app.mail import transport
from app.mail.transport import SendFailed, SmtpConfig, SmtpUrlError
from app.settings import Settings

log = logging.getLogger("app.mail")
HIDDEN = "[hidden]"


@dataclass(frozen=True)
class Sender:
    smtp: SmtpConfig | None
    mail_from: str
    problem: str = ""  # SMTP_URL is set but unusable: why (every send then fails, retried)

    @property
    def mode(self) -> str:
        return "smtp" if self.smtp else ("broken" if self.problem else "log")

    def describe(self) -> str:
        """One line for the settings page."""
        if self.smtp is not None:
            return f"Emails are sent through {self.smtp.describe()} from {self.mail_from}."
        if self.problem:
            return f"SMTP_URL cannot be used: {self.problem}. Emails wait in the outbox."
        return ("Email is not set up (no SMTP_URL): emails are written to the server log, "
                "with their approval links hidden.")

    def deliver(self, message: EmailMessage, *, hide: Iterable[str] = ()) -> bool:
        """Send (True) or log (False); raises SendFailed when the server does not take it."""
        if self.smtp is not None:
            transport.send(self.smtp, message)
            return True
        if self.problem:
            raise SendFailed(f"SMTP_URL cannot be used: {self.problem}")
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        for secret in hide:
            if secret:
                text = text.replace(secret, HIDDEN)
        log.info("email not sent (no SMTP_URL) to=%s subject=%r message_id=%s\n%s",
                 message["To"], message["Subject"], message["Message-ID"], text)
        return False


def sender_for_settings(settings: Settings) -> Sender:
    if not settings.smtp_url:
        return Sender(smtp=None, mail_from=settings.mail_from)
    try:
        config = transport.parse_smtp_url(settings.smtp_url, ca_file=settings.smtp_ca_file,
                                          timeout_s=settings.smtp_timeout_s)
    except SmtpUrlError as exc:
        return Sender(smtp=None, mail_from=settings.mail_from, problem=str(exc))
    return Sender(smtp=config, mail_from=settings.mail_from)
