"""Standard Webhooks signatures: secrets, signing, headers and verification (pure)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets as _random
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300


class SignatureInvalid(Exception):
    """A webhook whose headers are missing, stale, or carry no matching signature."""


def generate_secret() -> str:
    """A new `whsec_<base64>` secret, the form Standard Webhooks libraries accept."""
    return SECRET_PREFIX + base64.b64encode(_random.token_bytes(SECRET_BYTES)).decode("ascii")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "msg_id.timestamp.body">` keyed by the decoded secret."""
    signed = f"{msg_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def signature_header(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature per active secret, space-separated, so rotation can overlap."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return " ".join(sign(secret, msg_id, timestamp, body) for secret in secrets)


def headers(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery attempt (the id is stable, the timestamp is per attempt)."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp)),
        "webhook-signature": signature_header(secrets, msg_id, timestamp, body),
        "content-type": "application/json",
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: float = TOLERANCE_S,
    now: float | None = None,
) -> None:
    """Raise SignatureInvalid unless a `v1` signature by `secret` matches and is fresh.

    `now` is Unix seconds (defaults to the system clock).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    raw_timestamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and raw_timestamp and signatures):
        raise SignatureInvalid("missing webhook-id, webhook-timestamp or webhook-signature")
    timestamp = _fresh_timestamp(raw_timestamp, tolerance_s, time.time() if now is None else now)
    expected = sign(secret, msg_id, timestamp, body)
    # Compare every candidate so timing does not reveal which one matched.
    matched = False
    for candidate in signatures.split():
        matched |= hmac.compare_digest(candidate.encode(), expected.encode())
    if not matched:
        raise SignatureInvalid("no matching signature")


def _fresh_timestamp(raw: str, tolerance_s: float, now: float) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise SignatureInvalid("webhook-timestamp is not a Unix timestamp in seconds")
    timestamp = int(raw)
    if abs(now - timestamp) > tolerance_s:
        raise SignatureInvalid("webhook-timestamp is outside the tolerance window")
    return timestamp


def _secret_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except binascii.Error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not key:
        raise ValueError("a webhook secret may not be empty")
    return key
