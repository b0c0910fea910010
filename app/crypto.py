"""Secrets at rest (Fernet, keyed from the secret key) and one-way hashes of API keys."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

from app.settings import get_settings


class DecryptionFailed(Exception):
    """A stored secret cannot be read with this deployment's secret key."""


@functools.cache
def _fernet(secret_key: str) -> Fernet:
    # A distinct key for encryption, derived from the deployment's secret key.
    digest = hmac.new(secret_key.encode(), b"flowdesk/fernet/v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plaintext: str) -> str:
    return _fernet(get_settings().secret_key).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(get_settings().secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionFailed("stored secret cannot be decrypted with this SECRET_KEY") from exc


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
