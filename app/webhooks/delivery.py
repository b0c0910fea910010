"""One delivery attempt: build the signed request, send it, and judge the answer.

`build_body` and `judge` are pure; `send` does the one HTTP call and never raises: whatever
happens on the wire (a refused address, a timeout, a reset) becomes an AttemptResult.

`send` hands its request to the transport itself, not through an httpx.Client: a client's
URL and header merging, auth and redirect loops and cookie jar were a third of an
attempt's CPU, and a webhook wants none of them (no redirects are followed, no cookies kept
between receivers).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.models import DeliveryStatus
from app.models.event import PayloadFormat
from app.webhooks import signing
from app.webhooks.address_guard import AddressRefused
from app.webhooks.outbound import DEFAULT_USER_AGENT
from app.webhooks.retry import next_delay_s, parse_retry_after

# What the log keeps of a receiver's answer, and the most read of it.
EXCERPT_CHARS = 500
EXCERPT_READ_BYTES = 4096
GONE = 410


@dataclass(frozen=True)
class DeliveryJob:
    """Everything one attempt needs, read from the database before any network I/O."""

    url: str
    message_id: str  # the event id: the same for every retry and replay
    body: bytes
    secrets: Sequence[str]


@dataclass(frozen=True)
class AttemptResult:
    started_at: datetime
    status_code: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    response_excerpt: str | None = None
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Verdict:
    """What becomes of a delivery after an attempt."""

    status: str  # DeliveryStatus.SUCCEEDED, PENDING (retry at next_attempt_at) or FAILED
    next_attempt_at: datetime | None = None
    # Set when the receiver asked us to stop (410 Gone): the subscription is disabled.
    disable_reason: str | None = None


def build_body(payload: dict[str, Any], payload_format: str) -> bytes:
    """The JSON body of every attempt of an event (compact, UTF-8)."""
    if payload_format == PayloadFormat.COMPAT:
        payload = {
            **payload,
            "runId": payload.get("run_id"),
            "workflowId": payload.get("workflow_id"),
            "orgId": payload.get("workspace_id"),
        }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode()


def send(transport: httpx.BaseTransport, job: DeliveryJob, *, now: datetime,
         timeout_s: float) -> AttemptResult:
    """POST the signed body once (a transport follows no redirects); never raises."""
    headers = signing.headers(job.secrets, job.message_id, int(now.timestamp()), job.body)
    headers["user-agent"] = DEFAULT_USER_AGENT
    started = time.monotonic()

    def elapsed_ms() -> float:
        return round((time.monotonic() - started) * 1000, 1)

    try:
        request = httpx.Request("POST", job.url, content=job.body, headers=headers,
                                extensions={"timeout": httpx.Timeout(timeout_s).as_dict()})
        response = transport.handle_request(request)
        try:
            latency = elapsed_ms()
            excerpt = _excerpt(response)
        finally:
            response.close()
    except AddressRefused as exc:
        return AttemptResult(now, error=f"{exc} (no connection was attempted)")
    except httpx.TimeoutException:
        return AttemptResult(now, latency_ms=elapsed_ms(),
                             error=f"timed out after {timeout_s:g} s")
    except httpx.HTTPError as exc:
        return AttemptResult(now, latency_ms=elapsed_ms(), error=_describe(exc))
    except Exception as exc:  # a bad URL or a library bug is a failed attempt, not a crash
        return AttemptResult(now, latency_ms=elapsed_ms(), error=_describe(exc))
    code = response.status_code
    return AttemptResult(
        now,
        status_code=code,
        latency_ms=latency,
        error=_status_error(response),
        response_excerpt=excerpt,
        retry_after_s=None if 200 <= code < 300 else parse_retry_after(
            response.headers.get("retry-after"), now=now),
    )


def judge(result: AttemptResult, *, attempt: int, first_attempt_at: datetime, now: datetime,
          retry_scale: float) -> Verdict:
    """Delivered, retry later (the ladder, or Retry-After if longer), or give up."""
    if result.succeeded:
        return Verdict(DeliveryStatus.SUCCEEDED)
    if result.status_code == GONE:
        return Verdict(DeliveryStatus.FAILED,
                       disable_reason="the receiver answered 410 Gone")
    delay = next_delay_s(attempt, scale=retry_scale, retry_after_s=result.retry_after_s,
                         elapsed_s=max((now - first_attempt_at).total_seconds(), 0.0))
    if delay is None:
        return Verdict(DeliveryStatus.FAILED)
    return Verdict(DeliveryStatus.PENDING, next_attempt_at=now + timedelta(seconds=delay))


@dataclass(frozen=True)
class Settled:
    """What an attempt writes, its subscription's health taken into account."""

    status: str
    next_attempt_at: datetime | None
    failures: int  # the subscription's consecutive failed attempts after this one
    disable_reason: str | None  # set when this attempt disables the subscription


def settle(result: AttemptResult, verdict: Verdict, *, failures: int, active: bool,
           max_failures: int) -> Settled:
    """The verdict applied to a subscription with `failures` consecutive failed attempts so
    far: a success clears the count, the `max_failures`-th failure in a row (0: never)
    disables it, and a delivery of a disabled subscription is not retried."""
    after = 0 if result.succeeded else failures + 1
    disable = verdict.disable_reason
    if disable is None and 0 < max_failures <= after:
        disable = f"disabled after {after} consecutive failed attempts"
    if verdict.status == DeliveryStatus.PENDING and (disable or not active):
        return Settled(DeliveryStatus.FAILED, None, after, disable)
    return Settled(verdict.status, verdict.next_attempt_at, after, disable)


def _excerpt(response: httpx.Response) -> str | None:
    """The start of the answer, read no further than EXCERPT_READ_BYTES."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= EXCERPT_READ_BYTES:
            break
    text = b"".join(chunks)[:EXCERPT_READ_BYTES].decode("utf-8", errors="replace").strip()
    if not text:
        return None
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"


def _status_error(response: httpx.Response) -> str | None:
    code = response.status_code
    if 200 <= code < 300:
        return None
    if 300 <= code < 400:
        location = response.headers.get("location", "")
        target = f" to {location[:300]}" if location else ""
        return f"redirect ({code}){target} not followed: only a 2xx answer counts"
    return f"the receiver answered {code}"


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
