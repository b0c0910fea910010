"""Test helpers: a workspace with members, publishing definitions, running the executor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.clock import utcnow
from app.db import read_session, write_session
from app.engine.executor import Executor
from app.models import Actor, Approval, Role, Run, StepRun
from app.repo import steps as steps_repo
from app.services import accounts, workflows
from app.services import files as files_service


@dataclass
class World:
    workspace_id: str
    admin_id: str
    approver_id: str
    actor: Actor  # the admin, who starts runs
    http: httpx.Client | None = None
    now_offset_s: float = 0.0
    executor: Executor = field(init=False)

    def __post_init__(self) -> None:
        self.executor = Executor(http=self.http, lease_s=30, concurrency=4, owner="test",
                                 clock=self.now, rand=lambda: 0.0,
                                 files=files_service.read_for_step)

    @classmethod
    def create(cls, http: httpx.Client | None = None) -> World:
        system = Actor.system("tests")
        with write_session() as session:
            workspace = accounts.create_workspace(session, name="Acme", actor=system)
        with write_session() as session:
            admin = accounts.create_user(session, email="admin@acme.test", password="password-1")
        with write_session() as session:
            approver = accounts.create_user(session, email="approver@acme.test",
                                            password="password-2")
        with write_session() as session:
            accounts.add_member(session, workspace_id=workspace.id, user_id=admin.id,
                                role=Role.ADMIN, actor=system)
        with write_session() as session:
            accounts.add_member(session, workspace_id=workspace.id, user_id=approver.id,
                                role=Role.APPROVER, actor=system)
        actor = Actor.user(user_id=admin.id, email="admin@acme.test", role=Role.ADMIN,
                           workspace_id=workspace.id)
        return cls(workspace_id=workspace.id, admin_id=admin.id, approver_id=approver.id,
                   actor=actor, http=http)

    @property
    def approver(self) -> Actor:
        """The approver member: decides what the admin started (a requester may not)."""
        return Actor.user(user_id=self.approver_id, email="approver@acme.test",
                          role=Role.APPROVER, workspace_id=self.workspace_id)

    def member(self, name: str, role: str = Role.APPROVER) -> Actor:
        """A new member `<name>@acme.test` with `role`, as the actor they sign in as."""
        email = f"{name}@acme.test"
        with write_session() as session:
            user = accounts.create_user(session, email=email, password="password-x")
        with write_session() as session:
            accounts.add_member(session, workspace_id=self.workspace_id, user_id=user.id,
                                role=role, actor=Actor.system("tests"))
        return Actor.user(user_id=user.id, email=email, role=role,
                          workspace_id=self.workspace_id)

    def now(self) -> datetime:
        return utcnow() + timedelta(seconds=self.now_offset_s)

    def advance(self, seconds: float) -> None:
        self.now_offset_s += seconds

    def publish(self, definition: dict[str, Any], title: str = "Flow") -> str:
        with write_session() as session:
            workflow = workflows.create_workflow(session, workspace_id=self.workspace_id,
                                                 actor=self.actor, title=title,
                                                 definition=definition)
        with write_session() as session:
            workflows.publish_workflow(session, workspace_id=self.workspace_id,
                                       workflow_id=workflow.id, actor=self.actor)
        return workflow.id

    def trigger(self, workflow_id: str, input: dict[str, Any] | None = None) -> str:
        from app.services.runs import trigger_run

        with write_session() as session:
            run = trigger_run(session, workspace_id=self.workspace_id, workflow_id=workflow_id,
                              input=input or {}, actor=self.actor).run
        return run.id

    def drain(self) -> int:
        self.executor.clock = self.now
        return self.executor.run_until_idle()

    def run(self, run_id: str) -> Run:
        with read_session() as session:
            run = session.get(Run, run_id)
            assert run is not None
            return run

    def steps(self, run_id: str) -> list[StepRun]:
        with read_session() as session:
            return list(steps_repo.steps_of_run(session, run_id))

    def approvals(self, run_id: str) -> list[Approval]:
        from sqlmodel import select

        with read_session() as session:
            return list(session.exec(select(Approval).where(Approval.run_id == run_id)).all())
