"""Re-run from a step, on SQLite and PostgreSQL: the preview names the steps that run again
and their side effects; the new run keeps the earlier steps' outputs, runs on the pinned or
the latest version, and links to the old run."""

from __future__ import annotations

from typing import Any

import pytest

from app.db import read_session, write_session
from app.errors import Conflict, ValidationFailed
from app.models import RunStatus, Trigger
from app.services import reruns, workflows

V1 = {"start": "fetch", "steps": {
    "fetch": {"kind": "tool", "tool": "set", "args": {"amount": 42}, "next": "charge"},
    "charge": {"kind": "tool", "tool": "fail", "args": {"message": "gateway down"},
               "retry": {"max_attempts": 1}, "next": "notify"},
    "notify": {"kind": "http", "method": "POST", "url": "http://127.0.0.1:9/hook",
               "done": True}}}
V2_CHARGE = {"kind": "tool", "tool": "set",
             "args": {"charged": "{{ steps.fetch.amount }}"}, "done": True}


def flagged(world: Any) -> tuple[str, str]:
    workflow_id = world.publish(V1, title="Pay")
    run_id = world.trigger(workflow_id)
    world.drain()
    assert world.run(run_id).status == RunStatus.FLAGGED
    return workflow_id, run_id


def publish_fix(world: Any, workflow_id: str) -> None:
    fixed = {**V1, "steps": {"fetch": V1["steps"]["fetch"], "charge": V2_CHARGE}}
    with write_session() as session:
        workflows.save_workflow(session, workspace_id=world.workspace_id,
                                workflow_id=workflow_id, actor=world.actor,
                                definition=fixed, expected_version=None)
    with write_session() as session:
        workflows.publish_workflow(session, workspace_id=world.workspace_id,
                                   workflow_id=workflow_id, actor=world.actor)


def test_the_preview_names_what_runs_again_and_its_side_effects(world: Any) -> None:
    _, run_id = flagged(world)
    with read_session() as session:
        shown = reruns.plan(session, actor=world.actor, run_id=run_id, from_step="charge")
    assert [s.key for s in shown.again] == ["charge", "notify"]
    assert [s.key for s in shown.again if s.side_effect] == ["notify"]
    assert shown.kept == ["fetch"] and shown.choices == ["fetch", "charge"]
    assert shown.version == "pinned" and shown.version_number == 1


def test_a_rerun_on_the_latest_version_keeps_the_earlier_outputs(world: Any) -> None:
    workflow_id, run_id = flagged(world)
    publish_fix(world, workflow_id)
    with write_session() as session:
        new = reruns.rerun(session, actor=world.actor, run_id=run_id, from_step="charge",
                           version="latest")
        session.commit()
    world.drain()
    rerun = world.run(new.run.id)
    assert rerun.status == RunStatus.COMPLETED
    assert rerun.trigger == Trigger.RERUN and rerun.source_run_id == run_id
    assert rerun.version_number == 2
    assert rerun.outputs["fetch"] == {"amount": 42}  # kept, not run again
    assert rerun.outputs["charge"] == {"charged": 42}
    assert [s.step_key for s in world.steps(new.run.id)] == ["charge"]  # fetch did not run again
    assert world.run(run_id).status == RunStatus.FLAGGED  # the old run is left as it was


def test_refusals_name_what_is_wrong(world: Any) -> None:
    workflow_id, run_id = flagged(world)
    with read_session() as session:
        with pytest.raises(ValidationFailed) as never:
            reruns.plan(session, actor=world.actor, run_id=run_id, from_step="notify")
        assert never.value.errors[0].field == "from_step"
        assert "never reached" in never.value.errors[0].message
        with pytest.raises(ValidationFailed) as unknown:
            reruns.plan(session, actor=world.actor, run_id=run_id, from_step="nope")
        assert "fetch, charge" in unknown.value.errors[0].message
        with pytest.raises(ValidationFailed) as version:
            reruns.plan(session, actor=world.actor, run_id=run_id, from_step="fetch",
                        version="newest")
        assert version.value.errors[0].field == "version"
    blocked_flow = {"start": "ask", "steps": {
        "ask": {"kind": "approval", "assignees": ["role:approver"], "done": True}}}
    waiting = world.trigger(world.publish(blocked_flow))
    world.drain()
    with read_session() as session, pytest.raises(Conflict, match="BLOCKED"):
        reruns.plan(session, actor=world.actor, run_id=waiting, from_step="ask")
    assert workflow_id
