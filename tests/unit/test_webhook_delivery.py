"""One attempt without a server: the request `send` builds, and how `judge` rules on answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook as StandardWebhook

from app.models import DeliveryStatus
from app.webhooks import signing
from app.webhooks.delivery import (
    AttemptResult,
    DeliveryJob,
    Settled,
    Verdict,
    build_body,
    judge,
    send,
    settle,
)
from app.webhooks.retry import RETRY_LADDER_S

NOW = datetime(2026, 4, 26, 10, 0, 0, tzinfo=UTC)
SECRET = signing.generate_secret()
PAYLOAD = {"event": "run.completed", "id": "evt_1", "run_id": "run_1", "workflow_id": "wf_1",
           "workspace_id": "ws_1", "timestamp": "2026-04-26T10:00:00.000Z", "data": {"a": "é"}}


def client(handler: httpx.MockTransport) -> httpx.BaseTransport:
    """What the dispatcher sends through: a transport (here one without a network)."""
    return handler


def job(secrets: tuple[str, ...] = (SECRET,)) -> DeliveryJob:
    return DeliveryJob(url="https://hooks.example/in", message_id="evt_1",
                       body=build_body(PAYLOAD, "standard"), secrets=secrets)


def test_send_posts_the_signed_body_that_standardwebhooks_verifies() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    result = send(client(httpx.MockTransport(handler)), job(), now=NOW, timeout_s=5)
    assert result.succeeded and result.status_code == 204 and result.error is None
    (request,) = seen
    assert request.method == "POST" and request.headers["webhook-id"] == "evt_1"
    # Sent through the transport: what a client would have added is set by send itself.
    assert request.headers["user-agent"] == "Flowdesk/0.1"
    assert request.headers["content-type"] == "application/json"
    assert request.extensions["timeout"] == {"connect": 5, "read": 5, "write": 5, "pool": 5}
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    verifier = StandardWebhook(SECRET)
    # Verify at the attempt's time (the library checks freshness against the wall clock).
    sig = request.headers["webhook-signature"]
    assert sig == verifier.sign("evt_1", NOW, request.content.decode())
    assert json.loads(request.content) == PAYLOAD


def test_send_signs_with_every_secret_given() -> None:
    other = signing.generate_secret()
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200))
    send(client(transport), job((SECRET, other)), now=NOW, timeout_s=5)
    signatures = seen[0].headers["webhook-signature"].split()
    assert len(signatures) == 2
    for secret in (SECRET, other):
        signing.verify(secret, seen[0].headers, seen[0].content, now=NOW.timestamp())


def test_a_redirect_is_a_failure_and_is_not_followed() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(307, headers={"location": "https://elsewhere.example/"})

    result = send(client(httpx.MockTransport(handler)), job(), now=NOW, timeout_s=5)
    assert calls == ["https://hooks.example/in"]
    assert not result.succeeded and result.status_code == 307
    assert result.error == ("redirect (307) to https://elsewhere.example/ not followed: "
                            "only a 2xx answer counts")


def test_transport_errors_and_timeouts_become_results() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    slow = send(client(httpx.MockTransport(timeout)), job(), now=NOW, timeout_s=2.5)
    assert slow.status_code is None and slow.error == "timed out after 2.5 s"
    down = send(client(httpx.MockTransport(refused)), job(), now=NOW, timeout_s=2.5)
    assert down.error == "ConnectError: connection refused"


def test_the_excerpt_is_short_and_retry_after_is_read() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(
        503, content=b"x" * 10_000, headers={"retry-after": "120"}))
    result = send(client(transport), job(), now=NOW, timeout_s=5)
    assert result.retry_after_s == 120.0
    assert result.response_excerpt is not None and len(result.response_excerpt) <= 500


def test_the_compat_body_adds_camel_case_keys() -> None:
    body = json.loads(build_body(PAYLOAD, "compat"))
    assert body["runId"] == "run_1" and body["workflowId"] == "wf_1" and body["orgId"] == "ws_1"
    assert {k: body[k] for k in PAYLOAD} == PAYLOAD


@pytest.mark.parametrize("code", [200, 201, 204, 299])
def test_any_2xx_is_delivered(code: int) -> None:
    verdict = judge(AttemptResult(NOW, status_code=code), attempt=1, first_attempt_at=NOW,
                    now=NOW, retry_scale=1)
    assert verdict.status == DeliveryStatus.SUCCEEDED


@pytest.mark.parametrize("code", [None, 199, 301, 400, 404, 429, 500, 503])
def test_anything_else_retries_on_the_ladder(code: int | None) -> None:
    for attempt, step in enumerate(RETRY_LADDER_S, start=1):
        verdict = judge(AttemptResult(NOW, status_code=code), attempt=attempt,
                        first_attempt_at=NOW, now=NOW, retry_scale=0.5)
        assert verdict.status == DeliveryStatus.PENDING
        assert verdict.next_attempt_at == NOW + timedelta(seconds=step * 0.5)
    last = judge(AttemptResult(NOW, status_code=code), attempt=len(RETRY_LADDER_S) + 1,
                 first_attempt_at=NOW, now=NOW, retry_scale=0.5)
    assert last.status == DeliveryStatus.FAILED and last.next_attempt_at is None


def test_410_gives_up_and_asks_to_disable() -> None:
    verdict = judge(AttemptResult(NOW, status_code=410), attempt=1, first_attempt_at=NOW,
                    now=NOW, retry_scale=1)
    assert verdict.status == DeliveryStatus.FAILED
    assert verdict.disable_reason == "the receiver answered 410 Gone"


def test_a_longer_retry_after_wins_and_the_window_ends_retries() -> None:
    asked = judge(AttemptResult(NOW, status_code=429, retry_after_s=30), attempt=1,
                  first_attempt_at=NOW, now=NOW, retry_scale=1)
    assert asked.next_attempt_at == NOW + timedelta(seconds=30)
    late = judge(AttemptResult(NOW, status_code=500), attempt=2,
                 first_attempt_at=NOW - timedelta(hours=25), now=NOW, retry_scale=1)
    assert late.status == DeliveryStatus.FAILED


OK = AttemptResult(started_at=NOW, status_code=200)
DOWN = AttemptResult(started_at=NOW, status_code=503)
RETRY = Verdict(DeliveryStatus.PENDING, next_attempt_at=NOW + timedelta(seconds=5))


def test_settle_a_success_clears_the_failure_count() -> None:
    settled = settle(OK, Verdict(DeliveryStatus.SUCCEEDED), failures=7, active=True,
                     max_failures=20)
    assert settled == Settled(DeliveryStatus.SUCCEEDED, None, 0, None)


def test_settle_a_failure_counts_and_keeps_the_retry() -> None:
    settled = settle(DOWN, RETRY, failures=2, active=True, max_failures=20)
    assert settled == Settled(DeliveryStatus.PENDING, RETRY.next_attempt_at, 3, None)


def test_settle_the_last_allowed_failure_disables_and_stops_retrying() -> None:
    settled = settle(DOWN, RETRY, failures=19, active=True, max_failures=20)
    assert settled.status == DeliveryStatus.FAILED and settled.next_attempt_at is None
    assert settled.failures == 20
    assert settled.disable_reason == "disabled after 20 consecutive failed attempts"


def test_settle_zero_max_failures_never_disables() -> None:
    settled = settle(DOWN, RETRY, failures=10_000, active=True, max_failures=0)
    assert settled.disable_reason is None and settled.status == DeliveryStatus.PENDING


def test_settle_no_retry_for_a_disabled_subscription() -> None:
    settled = settle(DOWN, RETRY, failures=0, active=False, max_failures=20)
    assert settled.status == DeliveryStatus.FAILED and settled.next_attempt_at is None
    assert settled.disable_reason is None  # it was disabled before; nothing new to record


def test_settle_a_410_disables_with_its_own_reason() -> None:
    gone = Verdict(DeliveryStatus.FAILED, disable_reason="the receiver answered 410 Gone")
    settled = settle(AttemptResult(started_at=NOW, status_code=410), gone, failures=0,
                     active=True, max_failures=20)
    assert settled.disable_reason == "the receiver answered 410 Gone"
    assert settled.status == DeliveryStatus.FAILED
