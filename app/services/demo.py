"""The demo workspace: an admin, an approver, the Employee onboarding workflow and its form."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from app.models import Actor, Form, Role, Workflow, Workspace
from app.repo import accounts as accounts_repo
from app.services import accounts, forms, workflows

DEMO_WORKSPACE = "Demo workspace"
ADMIN_EMAIL = "admin@example.com"
APPROVER_EMAIL = "approver@example.com"
FORM_SLUG = "employee-onboarding"

ONBOARDING: dict[str, Any] = {
    "start": "intake",
    "steps": {
        "intake": {
            "kind": "input",
            "title": "New hire details",
            "fields": [
                {"name": "Full Name", "type": "text", "required": True},
                {"name": "Email", "type": "email", "required": True},
                {"name": "Position", "type": "text", "required": False},
            ],
            "next": "prepare",
        },
        "prepare": {
            "kind": "tool",
            "title": "Prepare accounts",
            "tool": "set",
            "args": {"username": "{{ input.Email.split('@')[0] }}",
                     "position": "{{ input.get('Position') or 'Unassigned' }}"},
            "next": "manager",
        },
        "manager": {
            "kind": "approval",
            "title": "Manager approval",
            "assignees": ["role:approver"],
            "instructions": "Approve onboarding of {{ input['Full Name'] }} "
                            "({{ steps.prepare.position }})",
            "due_in": "48h",
            "next": "route",
        },
        "route": {
            "kind": "branch",
            "title": "Approved?",
            "branches": [{"if": "steps.manager.decision == 'approved'", "then": "welcome"}],
            "else": "decline",
        },
        "welcome": {
            "kind": "tool",
            "title": "Send welcome",
            "tool": "set",
            "args": {"message": "Welcome aboard, {{ input['Full Name'] }}!"},
            "done": True,
        },
        "decline": {
            "kind": "tool",
            "title": "Record decline",
            "tool": "log",
            "args": {"message": "Onboarding of {{ input['Full Name'] }} was declined"},
            "done": True,
        },
    },
    "layout": {
        "intake": {"x": 0, "y": 0}, "prepare": {"x": 0, "y": 120},
        "manager": {"x": 0, "y": 240}, "route": {"x": 0, "y": 360},
        "welcome": {"x": -160, "y": 480}, "decline": {"x": 160, "y": 480},
    },
}


@dataclass(frozen=True)
class DemoLogin:
    workspace_id: str
    workflow_id: str
    form_slug: str
    admin_email: str
    approver_email: str
    password: str | None  # None when the demo already existed (its password is not kept)


def seed_demo(session: Session, *, password: str | None = None) -> DemoLogin:
    """Create the demo once; later calls find it and change nothing."""
    existing = session.exec(select(Workspace).where(Workspace.name == DEMO_WORKSPACE)).first()
    if existing is not None:
        workflow = session.exec(select(Workflow).where(Workflow.workspace_id == existing.id)
                                .where(Workflow.title == "Employee onboarding")).first()
        return DemoLogin(existing.id, workflow.id if workflow else "", FORM_SLUG, ADMIN_EMAIL,
                         APPROVER_EMAIL, None)
    system = Actor.system("demo seed")
    secret = password or secrets.token_urlsafe(12)
    workspace = accounts.create_workspace(session, name=DEMO_WORKSPACE, actor=system)
    for email, role in ((ADMIN_EMAIL, Role.ADMIN), (APPROVER_EMAIL, Role.APPROVER)):
        user = accounts_repo.user_by_email(session, email) or accounts.create_user(
            session, email=email, password=secret, name=email.split("@")[0].title())
        accounts.add_member(session, workspace_id=workspace.id, user_id=user.id, role=role,
                            actor=system)
    workflow = workflows.create_workflow(session, workspace_id=workspace.id, actor=system,
                                         title="Employee onboarding",
                                         description="Collect a new hire's details, get a "
                                                     "manager's approval, welcome them.",
                                         definition=ONBOARDING)
    workflows.publish_workflow(session, workspace_id=workspace.id, workflow_id=workflow.id,
                               actor=system)
    if session.exec(select(Form).where(Form.slug == FORM_SLUG)).first() is None:
        forms.create_form(session, workspace_id=workspace.id, actor=system,
                          title="New hire onboarding", slug=FORM_SLUG, workflow_id=workflow.id,
                          fields=ONBOARDING["steps"]["intake"]["fields"], is_published=True,
                          description="Tell us about the new hire; their manager approves.")
    return DemoLogin(workspace.id, workflow.id, FORM_SLUG, ADMIN_EMAIL, APPROVER_EMAIL, secret)
