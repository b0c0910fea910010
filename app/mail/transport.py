"""SMTP from a URL: `smtp://user:pass@host:587` (STARTTLS) or `smtps://…` (implicit TLS).

`smtp://` upgrades with STARTTLS whenever the server offers it, and refuses to log in without
it: a password never crosses the network in clear. A send either succeeds, fails for now
(the server is down, busy or says 4xx: try again later) or fails for good (5xx for this
message: retrying cannot help).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class SmtpUrlError(ValueError):
    """SMTP_URL cannot be used; the message says which part is wrong."""


class SendFailed(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class SmtpConfig:
    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""
    timeout_s: float = 10.0

    def describe(self) -> str:
        """Where mail goes, for pages and logs: never the password."""
        who = f"{self.username}@" if self.username else ""
        security = "implicit TLS" if self.scheme == "smtps" else "STARTTLS when offered"
        return f"{self.scheme}://{who}{self.host}:{self.port} ({security})"


def parse_smtp_url(url: str, *, ca_file: str = "", timeout_s: float = 10.0) -> SmtpConfig:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise SmtpUrlError("SMTP_URL must start with smtp:// (STARTTLS) or smtps:// "
                           "(implicit TLS)")
    if not parts.hostname:
        raise SmtpUrlError("SMTP_URL names no host (smtp://user:pass@host:587)")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise SmtpUrlError("SMTP_URL's port is not a number from 1 to 65535") from exc
    return SmtpConfig(scheme=scheme, host=parts.hostname, port=port,
                      username=unquote(parts.username or ""),
                      password=unquote(parts.password or ""), ca_file=ca_file,
                      timeout_s=timeout_s)


def _tls(config: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.ca_file or None)


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if config.scheme == "smtps":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_s,
                                context=_tls(config))
    client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
    client.ehlo()
    if client.has_extn("starttls"):
        client.starttls(context=_tls(config))
        client.ehlo()
    elif config.username:
        client.close()
        raise SendFailed(f"{config.host} offers no STARTTLS: refusing to send the password "
                         "in clear (use smtps:// or a server with STARTTLS)")
    return client


def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand `message` to the server; raise SendFailed (permanent or not) if it is not taken."""
    try:
        client = _connect(config)
        try:
            if config.username:
                client.login(config.username, config.password)
            client.send_message(message)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except SendFailed:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise SendFailed(f"the server refused the address ({codes[0] if codes else '?'})",
                         permanent=all(code >= 500 for code in codes)) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise SendFailed(f"the server refused the SMTP user name or password ({exc.smtp_code})"
                         ) from exc
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace")[:200] if isinstance(
            exc.smtp_error, bytes) else str(exc.smtp_error)[:200]
        raise SendFailed(f"the server said {exc.smtp_code} {text}",
                         permanent=500 <= exc.smtp_code < 600) from exc
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {str(exc)[:200] or 'connection failed'}"
                         ) from exc
