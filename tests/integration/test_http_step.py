"""The http step against a real loopback server: success, credentials, timeouts, retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.db import write_session
from app.models import RunStatus, StepStatus
from app.services import credentials
from app.settings import get_settings
from app.webhooks.outbound import client_for_settings
from tests.receiver import Reply, serve
from tests.support import World


@pytest.fixture
def http_world(database: str) -> Iterator[World]:
    client = client_for_settings(get_settings())
    yield World.create(http=client)
    client.close()


def http_flow(url: str, **step: Any) -> dict[str, Any]:
    return {"start": "in", "steps": {
        "in": {"kind": "input", "fields": [{"name": "email", "type": "email", "required": True}],
               "next": "call"},
        "call": {"kind": "http", "method": "POST", "url": url,
                 "body": {"email": "{{ input.email }}", "n": 3}, **step}}}


def test_post_sends_rendered_body_and_stable_idempotency_key(http_world: World) -> None:
    with serve(Reply(200, {"id": "acct_1"})) as receiver:
        run_id = http_world.trigger(http_world.publish(http_flow(receiver.url + "/accounts")),
                                    {"email": "jane@acme.test"})
        http_world.drain()
    run = http_world.run(run_id)
    assert run.status == RunStatus.COMPLETED
    assert run.outputs["call"]["status"] == 200
    assert run.outputs["call"]["body"] == {"id": "acct_1"}
    (request,) = receiver.received
    assert request.json() == {"email": "jane@acme.test", "n": 3}
    assert request.headers["idempotency-key"] == f"{run_id}:call"
    assert request.headers["content-type"] == "application/json"


def test_credential_is_injected_and_never_recorded(http_world: World) -> None:
    with write_session() as session:
        credentials.create_credential(session, workspace_id=http_world.workspace_id,
                                      actor=http_world.actor, name="hr", type="bearer",
                                      value="s3cret-token")
    with serve(Reply(201, {})) as receiver:
        run_id = http_world.trigger(
            http_world.publish(http_flow(receiver.url, credential="hr")),
            {"email": "jane@acme.test"})
        http_world.drain()
    assert receiver.received[0].headers["authorization"] == "Bearer s3cret-token"
    step = http_world.steps(run_id)[1]
    assert step.status == StepStatus.DONE
    assert "s3cret-token" not in repr(step.input) + repr(step.result)
    assert step.input["headers"]["Authorization"] == "[redacted]"


def test_500_then_success_is_retried_with_the_same_idempotency_key(http_world: World) -> None:
    with serve(Reply(500, {"error": "down"}), Reply(200, {"ok": True})) as receiver:
        run_id = http_world.trigger(http_world.publish(http_flow(
            receiver.url, retry={"max_attempts": 3, "backoff_s": 1})), {"email": "a@b.test"})
        http_world.drain()
        step = http_world.steps(run_id)[1]
        assert step.status == StepStatus.PENDING and "HTTP 500" in (step.error or "")
        http_world.advance(2)
        http_world.drain()
    assert http_world.run(run_id).status == RunStatus.COMPLETED
    assert http_world.steps(run_id)[1].attempt == 2
    keys = {r.headers["idempotency-key"] for r in receiver.received}
    assert keys == {f"{run_id}:call"} and len(receiver.received) == 2


def test_timeout_fails_the_step_and_flags_the_run(http_world: World) -> None:
    with serve(Reply(200, {}, delay_s=1.5)) as receiver:
        run_id = http_world.trigger(http_world.publish(http_flow(
            receiver.url, timeout_s=0.3, retry={"max_attempts": 1})), {"email": "a@b.test"})
        http_world.drain()
    run = http_world.run(run_id)
    assert run.status == RunStatus.FLAGGED
    assert "timed out" in (run.error or "")


def test_client_error_is_not_retried(http_world: World) -> None:
    with serve(Reply(404, {"error": "nope"})) as receiver:
        run_id = http_world.trigger(http_world.publish(http_flow(
            receiver.url, retry={"max_attempts": 3})), {"email": "a@b.test"})
        http_world.drain()
    assert http_world.run(run_id).status == RunStatus.FLAGGED
    assert len(receiver.received) == 1


def test_private_address_is_refused_without_a_request(http_world: World,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = http_world.trigger(http_world.publish(http_flow("http://10.1.2.3/x")),
                                {"email": "a@b.test"})
    http_world.drain()
    run = http_world.run(run_id)
    assert run.status == RunStatus.FLAGGED
    assert "refused" in (run.error or "")


def test_undefined_template_name_fails_the_step_with_a_clear_message(http_world: World) -> None:
    definition = http_flow("http://127.0.0.1:9/{{ input.missing }}")
    run_id = http_world.trigger(http_world.publish(definition), {"email": "a@b.test"})
    http_world.drain()
    run = http_world.run(run_id)
    assert run.status == RunStatus.FLAGGED
    assert "missing" in (run.error or "")
