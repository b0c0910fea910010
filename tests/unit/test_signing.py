"""Webhook signatures follow Standard Webhooks, so any receiver library verifies them."""

from __future__ import annotations

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app.webhooks.signing import (
    SignatureInvalid,
    generate_secret,
    headers,
    sign,
    signature_header,
    verify,
)

BODY = b'{"event":"run.completed","id":"evt_1","data":{"total":12.5,"name":"Z\xc3\xbcrich"}}'
MSG_ID = "msg_2b7e1c"


def _now() -> int:
    return int(time.time())


def test_generated_secret_is_whsec_and_base64_of_24_to_32_bytes() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) <= 32


def test_generated_secrets_differ() -> None:
    assert generate_secret() != generate_secret()


def test_signature_matches_the_specification_test_vector() -> None:
    # The example from the Standard Webhooks reference libraries' test suites.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    signature = sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_reference_library_verifies_our_headers() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, _now(), BODY)
    assert Webhook(secret).verify(BODY, sent)["data"]["name"] == "Zürich"


def test_reference_library_verifies_two_secret_header_with_either_secret() -> None:
    old, new = generate_secret(), generate_secret()
    sent = headers([old, new], MSG_ID, _now(), BODY)
    Webhook(old).verify(BODY, sent)
    Webhook(new).verify(BODY, sent)


def test_reference_library_rejects_a_secret_that_did_not_sign() -> None:
    sent = headers([generate_secret()], MSG_ID, _now(), BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(BODY, sent)


def test_we_verify_a_signature_made_by_the_reference_library() -> None:
    from datetime import UTC, datetime

    secret, now = generate_secret(), _now()
    signature = Webhook(secret).sign(MSG_ID, datetime.fromtimestamp(now, UTC), BODY.decode())
    sent = {"Webhook-Id": MSG_ID, "Webhook-Timestamp": str(now), "Webhook-Signature": signature}
    verify(secret, sent, BODY)


def test_headers_carry_id_timestamp_signature_and_json_content_type() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    assert sent == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1700000000",
        "webhook-signature": sign(secret, MSG_ID, 1700000000, BODY),
        "content-type": "application/json",
    }


def test_signature_header_lists_one_signature_per_secret() -> None:
    old, new = generate_secret(), generate_secret()
    header = signature_header([old, new], MSG_ID, 1700000000, BODY)
    assert header.split(" ") == [sign(old, MSG_ID, 1700000000, BODY),
                                 sign(new, MSG_ID, 1700000000, BODY)]


def test_signing_without_a_secret_is_an_error() -> None:
    with pytest.raises(ValueError):
        signature_header([], MSG_ID, 1700000000, BODY)


def test_secret_without_whsec_prefix_is_rejected() -> None:
    with pytest.raises(ValueError, match="whsec_"):
        sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", MSG_ID, 1700000000, BODY)


def test_verify_accepts_any_of_several_signatures() -> None:
    old, new = generate_secret(), generate_secret()
    sent = headers([old, new], MSG_ID, 1700000000, BODY)
    verify(new, sent, BODY, now=1700000000)


def test_verify_rejects_a_changed_body() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    with pytest.raises(SignatureInvalid, match="no matching signature"):
        verify(secret, sent, BODY + b" ", now=1700000000)


def test_verify_rejects_a_changed_message_id() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY) | {"webhook-id": "msg_other"}
    with pytest.raises(SignatureInvalid):
        verify(secret, sent, BODY, now=1700000000)


def test_verify_rejects_another_secret() -> None:
    sent = headers([generate_secret()], MSG_ID, 1700000000, BODY)
    with pytest.raises(SignatureInvalid):
        verify(generate_secret(), sent, BODY, now=1700000000)


def test_verify_rejects_a_timestamp_older_than_tolerance() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify(secret, sent, BODY, now=1700000000 + 301)


def test_verify_rejects_a_timestamp_from_the_future() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify(secret, sent, BODY, now=1700000000 - 301)


def test_verify_accepts_a_timestamp_within_tolerance() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    verify(secret, sent, BODY, now=1700000000 + 300)


def test_verify_rejects_missing_headers() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    del sent["webhook-signature"]
    with pytest.raises(SignatureInvalid, match="missing"):
        verify(secret, sent, BODY, now=1700000000)


def test_verify_rejects_a_non_numeric_timestamp() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY) | {"webhook-timestamp": "1.7e9"}
    with pytest.raises(SignatureInvalid, match="timestamp"):
        verify(secret, sent, BODY, now=1700000000)


def test_verify_ignores_unknown_signature_versions() -> None:
    secret = generate_secret()
    sent = headers([secret], MSG_ID, 1700000000, BODY)
    v1 = sent["webhook-signature"].removeprefix("v1,")
    with pytest.raises(SignatureInvalid):
        verify(secret, sent | {"webhook-signature": f"v1a,{v1}"}, BODY, now=1700000000)
