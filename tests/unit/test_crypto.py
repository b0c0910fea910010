"""Secrets at rest: what one secret key encrypts, only that key decrypts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app import crypto
from app.settings import reset_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    yield
    reset_settings()  # after monkeypatch restored the environment: no key leaks onward


def use_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("SECRET_KEY", key)
    reset_settings()


def test_a_secret_round_trips_and_repeats_come_out_the_same(
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch, "a" * 40)
    token = crypto.encrypt("whsec_one")
    assert token != "whsec_one"
    assert [crypto.decrypt(token) for _ in range(3)] == ["whsec_one"] * 3


def test_another_key_cannot_read_it_even_after_the_right_key_did(
        monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch, "a" * 40)
    token = crypto.encrypt("whsec_two")
    assert crypto.decrypt(token) == "whsec_two"
    use_key(monkeypatch, "b" * 40)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(token)
    use_key(monkeypatch, "a" * 40)
    assert crypto.decrypt(token) == "whsec_two"


def test_a_tampered_token_fails_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    use_key(monkeypatch, "a" * 40)
    token = crypto.encrypt("whsec_three")
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for _ in range(2):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt(tampered)
