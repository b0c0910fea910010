"""Approval emails from Jinja2 templates (sandboxed; HTML autoescaped): each a plain-text and
an HTML part, assembled into one multipart/alternative message with a fixed Message-ID."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

TEMPLATES = Path(__file__).with_name("templates")
_env = SandboxedEnvironment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                            autoescape=select_autoescape(["html"]), trim_blocks=False,
                            keep_trailing_newline=True)


@dataclass(frozen=True)
class Mail:
    """Everything one email says. `template` is 'item' (an item to act on: a new item, a
    reminder, an escalation, a delegation) or 'decision' (the outcome, to the requester)."""

    template: str
    subject: str
    headline: str
    intro: str
    workspace_name: str
    workflow_title: str
    footer: str
    settings_url: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    def context(self) -> dict[str, Any]:
        base = {"headline": self.headline, "intro": self.intro, "footer": self.footer,
                "settings_url": self.settings_url,
                "workspace_name": self.workspace_name, "workflow_title": self.workflow_title,
                "instructions": "", "due": "", "overdue": False, "progress": "", "summary": [],
                "link": "", "inbox_url": "", "outcome": "", "decided_by": "", "comment": "",
                "fields": [], "run_url": ""}
        return {**base, **self.values}


def bodies(mail: Mail) -> tuple[str, str]:
    """The plain-text and the HTML body."""
    context = mail.context()
    return (_env.get_template(f"{mail.template}.txt").render(context),
            _env.get_template(f"{mail.template}.html").render(context))


def message_id(email_id: str, mail_from: str) -> str:
    """`<email_id@domain of MAIL_FROM>`: made once per email row and kept for every try."""
    domain = mail_from.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<{email_id}@{domain}>"


def build(mail: Mail, *, to: str, mail_from: str, msg_id: str, date: datetime) -> EmailMessage:
    text, html = bodies(mail)
    message = EmailMessage()
    message["Subject"] = mail.subject
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msg_id
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to us
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
