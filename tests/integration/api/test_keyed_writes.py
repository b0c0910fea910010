"""The writes that carry the load (trigger, decision, signal, retry, skip) hold their
Idempotency-Key in their own transaction: the key, the change and the answer commit together
(one write transaction per request), on SQLite and PostgreSQL."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func
from sqlmodel import select

from app.db import get_engine, read_session
from app.models import AuditLog, IdempotencyRecord, Run, RunStatus
from tests.integration.api.conftest import FLAKY, GATED, JANE, ONBOARDING, Tenant


@contextmanager
def write_commits() -> Iterator[list[int]]:
    """Counts the commits of write transactions made inside the block."""
    engine = get_engine(write=True)
    commits: list[int] = []

    def count(_connection: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", count)
    try:
        yield commits
    finally:
        event.remove(engine, "commit", count)


def count_of(model: type) -> int:
    with read_session() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def records() -> list[IdempotencyRecord]:
    with read_session() as session:
        return list(session.exec(select(IdempotencyRecord)).all())


def warm(acme: Tenant) -> None:
    """One keyed request first, so the key's last-used touch and the purge of expired keys
    (at most every ten minutes) are not counted below."""
    refused = acme.post("/api/v1/workflows/wf_none/runs", headers={"Idempotency-Key": "w"})
    assert refused.status_code == 404


def test_a_keyed_trigger_is_one_write_transaction(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    warm(acme)
    path = f"/api/v1/workflows/{workflow_id}/runs"
    with write_commits() as commits:
        first = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "t-1"})
    assert first.status_code == 201, first.text
    assert len(commits) == 1
    (record,) = records()
    assert record.response_status == 201 and record.key == "t-1"
    with write_commits() as commits:
        again = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "t-1"})
    assert commits == []  # a replay writes nothing
    assert again.status_code == 201 and again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["content-type"] == "application/json"
    assert count_of(Run) == 1


def test_a_refused_trigger_leaves_neither_run_nor_key(acme: Tenant) -> None:
    workflow_id = acme.publish(ONBOARDING)
    path = f"/api/v1/workflows/{workflow_id}/runs"
    bad = acme.post(path, json={"input": {"Full Name": "Jane"}},
                    headers={"Idempotency-Key": "t-2"})
    assert bad.status_code == 422
    assert records() == [] and count_of(Run) == 0
    good = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "t-2"})
    assert good.status_code == 201 and "idempotency-replayed" not in good.headers
    other = acme.post(path, json={"input": {**JANE, "Full Name": "John"}},
                      headers={"Idempotency-Key": "t-2"})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert count_of(Run) == 1


def test_a_keyed_run_and_wait_replays_what_it_waited_for(acme: Tenant) -> None:
    workflow_id = acme.publish(GATED)
    path = f"/api/v1/workflows/{workflow_id}/runs?wait=0.2"
    first = acme.post(path, json={}, headers={"Idempotency-Key": "w-1"})
    assert first.status_code == 201
    again = acme.post(path, json={}, headers={"Idempotency-Key": "w-1"})
    assert again.content == first.content and again.headers["idempotency-replayed"] == "true"


def test_a_keyed_decision_is_one_transaction_and_replays(acme: Tenant) -> None:
    run = acme.another_key().runs.trigger(acme.publish(ONBOARDING), JANE)
    acme.world.drain()
    approval = acme.fd.approvals.list(status="pending").data[0]
    path = f"/api/v1/approvals/{approval.id}/decide"
    body = {"decision": "approved", "comment": "welcome"}
    warm(acme)
    with write_commits() as commits:
        first = acme.post(path, json=body, headers={"Idempotency-Key": "d-1"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "approved" and first.json()["comment"] == "welcome"
    assert len(commits) == 1
    again = acme.post(path, json=body, headers={"Idempotency-Key": "d-1"})
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["idempotency-replayed"] == "true"
    unkeyed = acme.post(path, json=body)  # without the key the second decision is refused
    assert unkeyed.status_code == 409
    with read_session() as session:
        audits = session.exec(select(AuditLog).where(
            AuditLog.action == "approval.approved")).all()
    assert len(audits) == 1
    acme.world.drain()
    assert acme.fd.runs.get(run.id).status == RunStatus.COMPLETED


def test_a_keyed_signal_answers_the_step_as_written(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(GATED))
    acme.world.drain()
    gate = acme.fd.runs.get(run.id).steps[0]
    path = f"/api/v1/steps/{gate.id}/ready"
    warm(acme)
    with write_commits() as commits:
        first = acme.post(path, json={"payload": {"ok": True}},
                          headers={"Idempotency-Key": "s-1"})
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "done" and first.json()["result"]["payload"] == {"ok": True}
    assert len(commits) == 1
    again = acme.post(path, json={"payload": {"ok": True}}, headers={"Idempotency-Key": "s-1"})
    assert again.content == first.content and again.headers["idempotency-replayed"] == "true"


def test_a_keyed_retry_answers_the_new_attempt(acme: Tenant) -> None:
    run = acme.fd.runs.trigger(acme.publish(FLAKY))
    acme.world.drain()
    failed = acme.fd.runs.get(run.id).steps[0]
    path = f"/api/v1/steps/{failed.id}/retry"
    first = acme.post(path, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 200, first.text
    assert first.json()["id"] != failed.id and first.json()["key"] == "boom"
    again = acme.post(path, headers={"Idempotency-Key": "r-1"})
    assert again.content == first.content  # not a second retry
    assert len(acme.fd.runs.get(run.id).steps) == 2


def test_twenty_concurrent_keyed_triggers_all_get_the_one_run(acme: Tenant) -> None:
    """The duplicates wait for the first transaction (unique key or write lock) and replay
    its answer: no 409, one run."""
    path = f"/api/v1/workflows/{acme.publish(ONBOARDING)}/runs"

    def send(_: int) -> tuple[int, str | None]:
        response = acme.post(path, json={"input": JANE}, headers={"Idempotency-Key": "only"})
        return response.status_code, response.json().get("id")

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(send, range(20)))
    assert {status for status, _ in answers} == {201}, answers
    assert len({run_id for _, run_id in answers}) == 1
    assert count_of(Run) == 1
