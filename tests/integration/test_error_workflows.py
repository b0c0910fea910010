"""Error workflows, on SQLite and PostgreSQL: a FLAGGED run starts its workflow's error
workflow (or the workspace default) once, with the failure as input; an error workflow that
fails starts nothing; bad settings are refused naming the field."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
from sqlmodel import col, select

from app.db import read_session, write_session
from app.errors import ValidationFailed
from app.models import Run, RunStatus, Trigger
from app.services import error_workflows, runs, timeline

FAILING = {"start": "charge", "steps": {
    "charge": {"kind": "tool", "tool": "fail", "args": {"message": "card declined"},
               "retry": {"max_attempts": 1}, "next": "done"},
    "done": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True}}}
NOTIFY = {"start": "tell", "steps": {
    "tell": {"kind": "tool", "tool": "set",
             "args": {"told": "{{ input.run.id }} failed at {{ input.failed_step.key }}: "
                              "{{ input.error }}"}, "done": True}}}


def start_due() -> int:
    with write_session() as session:
        return error_workflows.start_due(session, public_url="http://flowdesk.test")


def runs_of(workflow_id: str) -> list[Run]:
    with read_session() as session:
        return list(session.exec(select(Run).where(Run.workflow_id == workflow_id)
                                 .order_by(col(Run.created_at))).all())


def flagged_run(world: Any, workflow_id: str) -> str:
    run_id = world.trigger(workflow_id)
    world.drain()
    assert world.run(run_id).status == RunStatus.FLAGGED
    return run_id


def test_a_flagged_run_starts_its_error_workflow_once_with_the_failure(world: Any) -> None:
    notify = world.publish(NOTIFY, title="Tell ops")
    failing = world.publish(FAILING, title="Charge")
    with write_session() as session:
        error_workflows.set_for_workflow(session, actor=world.actor, workflow_id=failing,
                                         error_workflow_id=notify)
    run_id = flagged_run(world, failing)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:  # three processes looking at once
        assert sum(pool.map(lambda _: start_due(), range(3))) == 1
    assert start_due() == 0
    (error_run,) = runs_of(notify)
    assert error_run.trigger == Trigger.ERROR and error_run.source_run_id == run_id
    assert error_run.input["failed_step"]["key"] == "charge"
    assert error_run.input["failed_step"]["kind"] == "tool"
    assert "card declined" in error_run.input["error"]
    assert error_run.input["run"]["url"] == f"http://flowdesk.test/runs/{run_id}"
    world.drain()
    told = world.run(error_run.id).outputs["tell"]["told"]
    assert told.startswith(f"{run_id} failed at charge: ") and "card declined" in told
    with read_session() as session:
        assert [r["id"] for r in timeline.runs_from(session, run_id)] == [error_run.id]


def test_the_workspace_default_applies_and_a_failing_error_workflow_starts_nothing(
        world: Any) -> None:
    failing_handler = world.publish(FAILING, title="Broken handler")
    failing = world.publish(FAILING, title="Charge")
    with write_session() as session:
        error_workflows.set_default(session, actor=world.actor,
                                    error_workflow_id=failing_handler)
    flagged_run(world, failing)
    assert start_due() == 1
    (handler_run,) = runs_of(failing_handler)
    world.drain()
    assert world.run(handler_run.id).status == RunStatus.FLAGGED  # the handler failed too
    assert start_due() == 1  # its run.flagged event is taken, and starts nothing
    assert len(runs_of(failing_handler)) == 1


def test_each_flagging_starts_it_again_after_a_retry(world: Any) -> None:
    notify = world.publish(NOTIFY, title="Tell ops")
    failing = world.publish(FAILING, title="Charge")
    with write_session() as session:
        error_workflows.set_for_workflow(session, actor=world.actor, workflow_id=failing,
                                         error_workflow_id=notify)
    run_id = flagged_run(world, failing)
    start_due()
    with write_session() as session:
        step = world.steps(run_id)[0]
        runs.retry_step(session, workspace_id=world.workspace_id, step_id=step.id,
                        actor=world.actor)
    world.drain()
    assert world.run(run_id).status == RunStatus.FLAGGED
    start_due()
    assert len(runs_of(notify)) == 2


def test_bad_settings_name_the_field(world: Any) -> None:
    failing = world.publish(FAILING, title="Charge")
    with write_session() as session, pytest.raises(ValidationFailed) as own:
        error_workflows.set_for_workflow(session, actor=world.actor, workflow_id=failing,
                                         error_workflow_id=failing)
    assert own.value.errors[0].field == "error_workflow_id"
    with write_session() as session, pytest.raises(ValidationFailed) as missing:
        error_workflows.set_default(session, actor=world.actor, error_workflow_id="wf_nope")
    assert missing.value.errors[0].field == "default_error_workflow_id"
    with write_session() as session:  # no error workflow: a flagged run starts nothing
        pass
    flagged_run(world, failing)
    assert start_due() == 1 and len(runs_of(failing)) == 1


def test_a_sub_workflow_of_an_error_workflow_that_fails_starts_nothing(world: Any) -> None:
    failing = world.publish(FAILING, title="Charge")
    handler = world.publish({"start": "call", "steps": {  # the error workflow calls `failing`
        "call": {"kind": "subworkflow", "workflow_id": failing, "input": {}, "done": True}}},
        title="Handler")
    with write_session() as session:  # the default for every workflow, `failing` included
        error_workflows.set_default(session, actor=world.actor, error_workflow_id=handler)
    flagged_run(world, failing)
    assert start_due() == 1
    assert len(runs_of(handler)) == 1
    world.drain()  # the handler's child run of `failing` fails: no new handler run
    children = [r for r in runs_of(failing) if r.trigger == Trigger.SUBWORKFLOW]
    assert len(children) == 1 and children[0].status == RunStatus.FLAGGED
    while start_due():
        world.drain()
    assert len(runs_of(handler)) == 1
