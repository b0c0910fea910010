"""The demo workspace works as a new user first tries it."""

from __future__ import annotations

from app.db import write_session
from app.models import Actor, RunStatus
from app.services import approvals, demo
from app.services.runs import trigger_run
from tests.support import World


def test_demo_onboarding_runs_to_completion_without_the_optional_position(sqlite_db: str) -> None:
    with write_session() as session:
        login = demo.seed_demo(session, password="demo-password")
    world = World(workspace_id=login.workspace_id, admin_id="", approver_id="",
                  actor=Actor(type="system", label="test"))
    with write_session() as session:
        run = trigger_run(session, workspace_id=login.workspace_id,
                          workflow_id=login.workflow_id, actor=world.actor,
                          input={"Full Name": "Jane Doe", "Email": "jane@acme.test"}).run
    world.drain()
    assert world.run(run.id).status == RunStatus.BLOCKED
    assert world.run(run.id).outputs["prepare"]["position"] == "Unassigned"
    approval = world.approvals(run.id)[0]
    with write_session() as session:
        approvals.decide_approval(session, workspace_id=login.workspace_id,
                                  approval_id=approval.id, decision="approved",
                                  actor=world.actor)
    world.drain()
    finished = world.run(run.id)
    assert finished.status == RunStatus.COMPLETED
    assert finished.outputs["welcome"] == {"message": "Welcome aboard, Jane Doe!"}


def test_seeding_twice_changes_nothing(sqlite_db: str) -> None:
    with write_session() as session:
        first = demo.seed_demo(session, password="demo-password")
    with write_session() as session:
        again = demo.seed_demo(session)
    assert again.workspace_id == first.workspace_id and again.password is None
