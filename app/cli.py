"""Command line: migrate, seed the demo, manage users and keys, drive runs, run a worker."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from app.cli_schedules import add_commands as add_schedule_commands
from app.clock import iso, utcnow
from app.db import read_session, write_session
from app.errors import DomainError
from app.migrations import upgrade_to_head
from app.models import SCOPES, Actor, RunStatus
from app.repo import accounts as accounts_repo
from app.repo import approvals as approvals_repo
from app.repo import runs as runs_repo
from app.repo import steps as steps_repo
from app.services import accounts, api_keys, approvals, demo, runs
from app.settings import get_settings

WAIT_POLL_S = 0.2


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


def _workspace_id(given: str | None) -> str:
    if given:
        return given
    with read_session() as session:
        workspace = accounts_repo.first_workspace(session)
    if workspace is None:
        raise SystemExit("no workspace exists yet: run `python -m app.cli seed-demo` first")
    return workspace.id


def _actor_for(email: str | None, workspace_id: str) -> Actor:
    """The acting user with their role in the workspace (none if not a member), or the CLI."""
    if not email:
        return Actor.system("cli")
    with read_session() as session:
        user = accounts_repo.user_by_email(session, email)
        if user is None:
            raise SystemExit(f"no user with email {email}")
        member = accounts_repo.membership(session, workspace_id=workspace_id, user_id=user.id)
    return Actor.user(user_id=user.id, email=user.email, workspace_id=workspace_id,
                      role=member.role if member else None)


def cmd_migrate(_args: argparse.Namespace) -> None:
    upgrade_to_head()
    print("database is at the newest schema")


def cmd_seed_demo(args: argparse.Namespace) -> None:
    upgrade_to_head()
    with write_session() as session:
        login = demo.seed_demo(session, password=args.password)
    settings = get_settings()
    login_file = settings.data_dir / "demo-login.txt"
    if login.password is not None:
        login_file.write_text(f"{login.admin_email} {login.password}\n")
        login_file.chmod(0o600)
    print(f"demo workspace: {login.workspace_id}")
    print(f"demo workflow:  {login.workflow_id} (Employee onboarding)")
    print(f"public form:    {settings.public_url}/f/{login.form_slug}")


def cmd_create_user(args: argparse.Namespace) -> None:
    with write_session() as session:
        user = accounts.create_user(session, email=args.email, password=args.password,
                                    name=args.name or "")
    if args.role:
        with write_session() as session:
            accounts.add_member(session, workspace_id=_workspace_id(args.workspace),
                                user_id=user.id, role=args.role, actor=Actor(type="system",
                                                                             label="cli"))
    print(f"user {user.id} <{user.email}> created")


def cmd_mint_api_key(args: argparse.Namespace) -> None:
    scopes = list(SCOPES) if args.scopes == "all" else [s.strip() for s in args.scopes.split(",")]
    expires = utcnow() + timedelta(days=args.days) if args.days else None
    with write_session() as session:
        minted = api_keys.mint_api_key(session, workspace_id=_workspace_id(args.workspace),
                                       actor=Actor(type="system", label="cli"), name=args.name,
                                       scopes=scopes, expires_at=expires)
    print(f"key {minted.key.id} ({minted.key.prefix}…) scopes: {', '.join(minted.key.scopes)}",
          file=sys.stderr)
    print("the secret is shown once; store it now:", file=sys.stderr)
    print(minted.secret)


def _wait_for(run_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with read_session() as session:
            run = runs_repo.get_run(session, run_id)
            if run is not None and run.status != RunStatus.IN_PROGRESS:
                return
        time.sleep(WAIT_POLL_S)


def cmd_trigger(args: argparse.Namespace) -> None:
    payload = json.loads(args.input) if args.input else {}
    workspace_id = _workspace_id(args.workspace)
    actor = _actor_for(args.as_user, workspace_id)
    with write_session() as session:
        run = runs.trigger_run(session, workspace_id=workspace_id,
                               workflow_id=args.workflow_id, input=payload, actor=actor,
                               trigger="api").run
    if args.wait:
        _wait_for(run.id, args.wait)
    _show(run.id)


def _decide(args: argparse.Namespace, decision: str) -> None:
    workspace_id = _workspace_id(args.workspace)
    actor = _actor_for(args.as_user, workspace_id)
    ident = args.id
    with read_session() as session:
        if ident.startswith("run_"):
            pending = approvals_repo.pending_of_run(session, ident)
            if not pending:
                raise SystemExit(f"run {ident} has no pending approval")
            ident = pending[0].id
    with write_session() as session:
        approval = approvals.decide_approval(session, workspace_id=workspace_id,
                                             approval_id=ident, decision=decision, actor=actor,
                                             comment=args.comment, via="cli")
    print(f"approval {approval.id}: {approval.status} by {approval.decided_by}")
    if args.wait:
        _wait_for(approval.run_id, args.wait)
    _show(approval.run_id)


def _show(run_id: str) -> None:
    with read_session() as session:
        run = runs_repo.get_run(session, run_id)
        if run is None:
            raise SystemExit(f"no run {run_id}")
        steps = steps_repo.steps_of_run(session, run_id)
        pending = approvals_repo.pending_of_run(session, run_id)
    print(f"run {run.id}  {run.workflow_title} v{run.version_number}  status {run.status}")
    print(f"  trigger {run.trigger}  created {iso(run.created_at)}  "
          f"completed {iso(run.completed_at) or '-'}")
    if run.error:
        print(f"  error: {run.error}")
    print(f"  {'#':>2}  {'step':<14} {'kind':<11} {'status':<9} {'try':>3}  "
          f"{'started':<24} {'duration':>9}  output")
    for step in steps:
        duration = "-"
        if step.started_at and step.finished_at:
            duration = f"{(step.finished_at - step.started_at).total_seconds() * 1000:.0f} ms"
        output = json.dumps(step.result, default=str) if step.result is not None else (
            step.error or "")
        print(f"  {step.seq:>2}  {step.step_key:<14} {step.kind:<11} {step.status:<9} "
              f"{step.attempt:>3}  {iso(step.started_at) or '-':<24} {duration:>9}  {output}")
    for approval in pending:
        print(f"  waiting for approval {approval.id} by {', '.join(approval.assignees)}: "
              f"{approval.instructions}")


def cmd_show_run(args: argparse.Namespace) -> None:
    _show(args.run_id)


def cmd_worker(_args: argparse.Namespace) -> None:
    from app.worker import main as worker_main

    worker_main()


def cmd_login_info(_args: argparse.Namespace) -> None:
    login_file = get_settings().data_dir / "demo-login.txt"
    if login_file.exists():
        email, password = login_file.read_text().split()
        print(f"sign in as {email} / {password}  (approver: {demo.APPROVER_EMAIL}, same password)")


def cmd_export_openapi(args: argparse.Namespace) -> None:
    """Write the REST API's OpenAPI document (what /api/v1/openapi.json serves), no server."""
    from app.api.main import create_api

    text = json.dumps(create_api().openapi(), indent=2, ensure_ascii=False) + "\n"
    if args.path == "-":
        sys.stdout.write(text)
        return
    target = Path(args.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app.cli", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate)
    seed = sub.add_parser("seed-demo", help="create the demo workspace once")
    seed.add_argument("--password", help="password of the demo users (random by default)")
    seed.set_defaults(func=cmd_seed_demo)
    sub.add_parser("login-info", help="print the demo sign-in").set_defaults(func=cmd_login_info)
    user = sub.add_parser("create-user", help="create a user, optionally a member")
    user.add_argument("email")
    user.add_argument("password")
    user.add_argument("--name")
    user.add_argument("--role", choices=("admin", "builder", "approver", "viewer"))
    user.add_argument("--workspace")
    user.set_defaults(func=cmd_create_user)
    key = sub.add_parser("mint-api-key", help="mint an API key; the secret is the last line")
    key.add_argument("--name", default="cli")
    key.add_argument("--scopes", default="all", help="comma-separated scopes, or 'all'")
    key.add_argument("--days", type=int, help="expire after this many days")
    key.add_argument("--workspace")
    key.set_defaults(func=cmd_mint_api_key)
    trig = sub.add_parser("trigger", help="start a run of a published workflow")
    trig.add_argument("workflow_id")
    trig.add_argument("input", nargs="?", help="JSON object of input fields")
    trig.add_argument("--wait", type=float, default=5.0, help="seconds to wait for it to settle")
    trig.add_argument("--as", dest="as_user", help="act as this user (email)")
    trig.add_argument("--workspace")
    trig.set_defaults(func=cmd_trigger)
    for name, decision in (("approve", "approved"), ("reject", "rejected")):
        decide = sub.add_parser(name, help=f"{name} a pending approval (by approval or run id)")
        decide.add_argument("id")
        decide.add_argument("--comment")
        decide.add_argument("--as", dest="as_user", help="decide as this user (email)")
        decide.add_argument("--wait", type=float, default=5.0)
        decide.add_argument("--workspace")
        decide.set_defaults(func=lambda a, d=decision: _decide(a, d))
    show = sub.add_parser("show-run", help="print a run's step timeline")
    show.add_argument("run_id")
    show.set_defaults(func=cmd_show_run)
    sub.add_parser("worker", help="run only the executor and dispatcher").set_defaults(
        func=cmd_worker)
    spec = sub.add_parser("export-openapi", help="write the API's OpenAPI document to a file")
    spec.add_argument("path", help="where to write it ('-' for standard output)")
    spec.set_defaults(func=cmd_export_openapi)
    add_schedule_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
