"""`python -m app.cli schedules …`: list, preview, create, change, pause, resume, run now,
delete a schedule, and print what its due times did."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

from app.clock import iso
from app.db import read_session, write_session
from app.models import Actor, MissedPolicy, Schedule
from app.services import schedules


def _context(args: argparse.Namespace) -> tuple[str, Actor]:
    from app.cli import _actor_for, _workspace_id

    workspace_id = _workspace_id(args.workspace)
    actor = _actor_for(getattr(args, "as_user", None), workspace_id)
    return workspace_id, replace(actor, workspace_id=workspace_id)  # the CLI acts in it


def _input(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"--input is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SystemExit("--input must be a JSON object")
    return value


def _line(schedule: Schedule) -> str:
    state = "active" if schedule.enabled else "paused"
    words = schedules.timing_of(schedule).description
    return (f"{schedule.id}  {schedule.workflow_id}  {state:<6}  {schedule.cron!r} "
            f"{schedule.timezone}  next {iso(schedule.next_fire_at) or '-'}  {words}"
            + (f"  ({schedule.name})" if schedule.name else ""))


def _show(schedule: Schedule) -> None:
    print(_line(schedule))
    if schedule.enabled:
        for due in schedules.timing_of(schedule).next_fire_times:
            print(f"  due {iso(due)}")


def cmd_list(args: argparse.Namespace) -> None:
    workspace_id, _ = _context(args)
    with read_session() as session:
        rows = schedules.list_schedules(session, workspace_id=workspace_id,
                                        workflow_id=args.workflow)
        for schedule in rows:
            print(_line(schedule))
    if not rows:
        print("no schedules")


def cmd_preview(args: argparse.Namespace) -> None:
    shown = schedules.timing(args.cron, args.timezone)
    print(shown.description)
    for due in shown.next_fire_times:
        print(f"  due {iso(due)}")


def cmd_create(args: argparse.Namespace) -> None:
    workspace_id, actor = _context(args)
    with write_session() as session:
        schedule = schedules.create_schedule(
            session, workspace_id=workspace_id, workflow_id=args.workflow_id, cron=args.cron,
            actor=actor, timezone=args.timezone, input=_input(args.input), name=args.name,
            missed_policy=args.missed, enabled=not args.paused)
        _show(schedule)


def cmd_update(args: argparse.Namespace) -> None:
    _, actor = _context(args)
    changes = {"cron": args.cron, "timezone": args.timezone, "name": args.name,
               "missed_policy": args.missed,
               "input": _input(args.input) if args.input is not None else None}
    with write_session() as session:
        _show(schedules.update_schedule(session, actor=actor, schedule_id=args.id, **changes))


def _enable(args: argparse.Namespace, enabled: bool) -> None:
    _, actor = _context(args)
    with write_session() as session:
        _show(schedules.set_enabled(session, actor=actor, schedule_id=args.id, enabled=enabled))


def cmd_run_now(args: argparse.Namespace) -> None:
    _, actor = _context(args)
    with write_session() as session:
        started = schedules.run_now(session, actor=actor, schedule_id=args.id)
        session.commit()
    print(f"started run {started.run.id}  (python -m app.cli show-run {started.run.id})")


def cmd_delete(args: argparse.Namespace) -> None:
    _, actor = _context(args)
    with write_session() as session:
        schedules.delete_schedule(session, actor=actor, schedule_id=args.id)
    print(f"deleted {args.id}")


def cmd_fires(args: argparse.Namespace) -> None:
    workspace_id, _ = _context(args)
    with read_session() as session:
        entries = schedules.history(session, workspace_id=workspace_id, schedule_id=args.id,
                                    limit=args.limit)
    for entry in entries:
        fire = entry.fire
        run = f"{fire.run_id} {entry.run_status}" if fire.run_id else "-"
        missed = f"missed {fire.missed}  " if fire.missed else ""
        print(f"{iso(fire.at)}  {fire.kind:<7}  due {iso(fire.due_at)}  {missed}run {run}"
              + (f"  {fire.detail}" if fire.detail else ""))
    if not entries:
        print("nothing fired yet")


def _common(parser: argparse.ArgumentParser, *, acting: bool = False) -> None:
    parser.add_argument("--workspace")
    if acting:
        parser.add_argument("--as", dest="as_user", help="act as this user (email)")


def add_commands(sub: Any) -> None:
    """The `schedules` command and its subcommands, under the CLI's subparsers."""
    group = sub.add_parser("schedules", help="cron schedules of workflows").add_subparsers(
        dest="schedules_command", required=True)
    listing = group.add_parser("list", help="every schedule, or one workflow's")
    listing.add_argument("--workflow", help="only this workflow's")
    _common(listing)
    listing.set_defaults(func=cmd_list)
    preview = group.add_parser("preview", help="a cron expression in words, next due times")
    preview.add_argument("cron")
    preview.add_argument("--timezone", default="UTC")
    preview.set_defaults(func=cmd_preview)
    create = group.add_parser("create", help="schedule a published workflow")
    create.add_argument("workflow_id")
    create.add_argument("cron", help="5 crontab fields, quoted: '0 9 * * mon-fri'")
    create.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Europe/Berlin")
    create.add_argument("--input", help="JSON object: the input of every run")
    create.add_argument("--name", default="")
    create.add_argument("--missed", choices=MissedPolicy.ALL, default=MissedPolicy.SKIP,
                        help="due times missed while down: skip them, or run once")
    create.add_argument("--paused", action="store_true", help="create it paused")
    _common(create, acting=True)
    create.set_defaults(func=cmd_create)
    update = group.add_parser("update", help="change what is given")
    update.add_argument("id")
    update.add_argument("--cron")
    update.add_argument("--timezone")
    update.add_argument("--input")
    update.add_argument("--name")
    update.add_argument("--missed", choices=MissedPolicy.ALL)
    _common(update, acting=True)
    update.set_defaults(func=cmd_update)
    for name, enabled in (("pause", False), ("resume", True)):
        toggle = group.add_parser(name, help=f"{name} a schedule")
        toggle.add_argument("id")
        _common(toggle, acting=True)
        toggle.set_defaults(func=lambda a, e=enabled: _enable(a, e))
    for name, func, words in (("run-now", cmd_run_now, "start a run with its input now"),
                              ("delete", cmd_delete, "delete it and its history"),
                              ("fires", cmd_fires, "what its due times did, newest first")):
        command = group.add_parser(name, help=words)
        command.add_argument("id")
        if name == "fires":
            command.add_argument("--limit", type=int, default=20)
        _common(command, acting=name != "fires")
        command.set_defaults(func=func)
