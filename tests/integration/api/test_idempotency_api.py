"""Idempotency-Key on POST, on SQLite and PostgreSQL: replays are verbatim, another body is
422, a request still in flight is 409, and concurrent duplicates create exactly one run."""

from __future__ import annotations

import concurrent.futures
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from app.api.idempotency import request_hash
from app.clock import utcnow
from app.db import read_session, write_session
from app.models import IdempotencyRecord, Run
from app.services import idempotency
from tests.integration.api.conftest import JANE, ONBOARDING, QUICK, Tenant, assert_problem


def run_count() -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(Run)).one())


def test_a_replay_answers_the_original_response_verbatim(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    path = f"/api/v1/workflows/{workflow_id}/runs"
    first = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "key-1"})
    again = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "key-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    assert run_count() == 1


def test_the_same_key_with_another_body_is_422(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    path = f"/api/v1/workflows/{workflow_id}/runs"
    acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "key-2"})
    other = acme.post(path, json={"input": {**JANE, "Full Name": "John"}},
                      headers={"Idempotency-Key": "key-2"})
    body = assert_problem(other, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    elsewhere = acme.post("/api/v1/workflows", json={"title": "x", "definition": QUICK},
                          headers={"Idempotency-Key": "key-2"})
    assert_problem(elsewhere, 422)
    assert run_count() == 1


def test_a_key_still_in_flight_is_409(acme: Tenant) -> None:
    body = b'{"title": "slow", "definition": {"start": "hello"}}'
    scope = {"method": "POST", "path": "/api/v1/workflows", "query_string": b""}
    with write_session() as session:  # the first request with this key has not answered yet
        idempotency.claim_key(session, workspace_id=acme.workspace_id, key="busy",
                              method="POST", path="/api/v1/workflows",
                              request_hash=request_hash(scope, body), now=utcnow())
    same = acme.post("/api/v1/workflows", content=body, headers={
        "Idempotency-Key": "busy", "Content-Type": "application/json"})
    assert_problem(same, 409, "CONFLICT")
    assert same.headers["retry-after"] == "1"


def test_an_error_is_not_kept_so_a_corrected_retry_runs(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    path = f"/api/v1/workflows/{workflow_id}/runs"
    bad = acme.post(path, json={"input": {"Full Name": "Jane"}},
                    headers={"Idempotency-Key": "fix-me"})
    assert_problem(bad, 422)
    good = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "fix-me"})
    assert good.status_code == 201 and "idempotency-replayed" not in good.headers


def test_a_crash_releases_the_key_and_answers_a_500_with_the_limit_headers(
        acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import workflows

    create = workflows.create_workflow

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(workflows, "create_workflow", explode)
    body = {"title": "Crash", "definition": QUICK}
    crashed = acme.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "crash"})
    assert_problem(crashed, 500, "INTERNAL_ERROR")
    assert "x-ratelimit-remaining" in crashed.headers
    monkeypatch.setattr(workflows, "create_workflow", create)
    retried = acme.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "crash"})
    assert retried.status_code == 201 and "idempotency-replayed" not in retried.headers


def test_keys_are_per_workspace(acme: Tenant, globex: Tenant) -> None:
    body = {"title": "Same key", "definition": QUICK}
    ours = acme.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "shared"})
    theirs = globex.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "shared"})
    assert ours.status_code == theirs.status_code == 201
    assert ours.json()["id"] != theirs.json()["id"]


def test_an_expired_or_abandoned_key_can_be_used_again(acme: Tenant) -> None:
    body = {"title": "Once a day", "definition": QUICK}
    first = acme.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "daily"})
    with write_session() as session:
        record = session.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.key == "daily")).one()
        record.expires_at = utcnow() - timedelta(seconds=1)
        session.add(record)
        session.commit()
    later = acme.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "daily"})
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    with write_session() as session:  # a claim whose process died long ago
        record = session.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.key == "daily")).one()
        record.response_status = None
        record.response_body = None
        record.created_at = utcnow() - timedelta(minutes=5)
        session.add(record)
        session.commit()
    taken = acme.post("/api/v1/workflows", json=body, headers={"Idempotency-Key": "daily"})
    assert taken.status_code == 201 and "idempotency-replayed" not in taken.headers


def test_an_unusable_key_is_422(acme: Tenant) -> None:
    response = acme.post("/api/v1/workflows", json={"title": "x", "definition": QUICK},
                         headers={"Idempotency-Key": "x" * 256})
    assert assert_problem(response, 422)["errors"][0]["field"] == "Idempotency-Key"


def test_twenty_concurrent_requests_with_one_key_create_one_run(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    path = f"/api/v1/workflows/{workflow_id}/runs"

    def send(_: int) -> tuple[int, str | None]:
        response = acme.post(path, json={"input": JANE},
                             headers={"Idempotency-Key": "one-and-only"})
        return response.status_code, response.json().get("id")

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 409}, answers
    assert statuses.count(201) >= 1
    assert len({run_id for status, run_id in answers if status == 201}) == 1
    assert run_count() == 1
    replay = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "one-and-only"})
    assert replay.status_code == 201 and replay.headers["idempotency-replayed"] == "true"
