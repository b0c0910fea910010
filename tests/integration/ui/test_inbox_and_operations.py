"""The inbox, run timeline, runs list and dashboard services the pages call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.clock import utcnow
from app.db import read_session, write_session
from app.errors import Conflict, Forbidden, ValidationFailed
from app.models import Actor, RunStatus
from app.services import dashboard, inbox, run_lists, run_operations, timeline
from app.services.run_lists import RunQuery


def _pending(actor: Actor) -> list[inbox.InboxItem]:
    with read_session() as session:
        return inbox.pending_for(session, actor=actor)


def _decide(actor: Actor, approval_id: str, decision: str = "approved") -> None:
    with write_session() as session:
        inbox.decide(session, actor=actor, approval_id=approval_id, decision=decision)


def test_an_approver_decides_and_a_viewer_only_sees(world: Any, people: dict[str, Actor],
                                                   blocked_run: str) -> None:
    [mine] = _pending(people["approver"])
    assert mine.run_id == blocked_run and mine.can_decide and mine.instructions == "Approve Ada"
    [seen] = _pending(people["viewer"])
    assert not seen.can_decide
    with read_session() as session:
        assert inbox.count_pending_for(session, actor=people["viewer"]) == 0
        assert inbox.count_pending_for(session, actor=people["approver"]) == 1
    with pytest.raises(Forbidden):
        _decide(people["viewer"], mine.id)
    _decide(people["approver"], mine.id)
    with pytest.raises(Conflict, match=r"already approved by approver@acme\.test"):
        _decide(people["admin"], mine.id, "rejected")
    assert _pending(people["approver"]) == []
    with read_session() as session:
        [decided] = inbox.decided_for(session, actor=people["approver"])
    assert decided.status == "approved" and decided.decided_by == "approver@acme.test"


def test_the_timeline_shows_every_step_and_the_decision(world: Any, people: dict[str, Actor],
                                                        blocked_run: str) -> None:
    [item] = _pending(people["approver"])
    _decide(people["approver"], item.id)
    world.drain()
    with read_session() as session:
        view = timeline.run_view(session, workspace_id=world.workspace_id, run_id=blocked_run)
    assert view.status == RunStatus.COMPLETED and view.finished
    assert [s.step_key for s in view.steps] == ["intake", "manager", "welcome"]
    manager = view.steps[1]
    assert manager.approval_status == "approved"
    assert manager.approval_by == "approver@acme.test"
    assert not any(s.can_retry for s in view.steps)


def test_only_operators_cancel_runs(world: Any, people: dict[str, Actor],
                                    blocked_run: str) -> None:
    with write_session() as session, pytest.raises(Forbidden):
        run_operations.cancel(session, actor=people["approver"], run_id=blocked_run)
    with write_session() as session:
        run_operations.cancel(session, actor=people["admin"], run_id=blocked_run)
    assert world.run(blocked_run).status == RunStatus.CANCELLED
    assert _pending(people["approver"]) == []


def test_the_runs_list_filters_and_pages(world: Any, people: dict[str, Actor],
                                         blocked_run: str) -> None:
    workflow_id = world.run(blocked_run).workflow_id
    others = [world.trigger(workflow_id, {"Name": f"N{i}"}) for i in range(3)]
    world.drain()
    with read_session() as session:
        first = run_lists.list_page(session, workspace_id=world.workspace_id,
                                    query=RunQuery(status="BLOCKED"), limit=2)
        second = run_lists.list_page(session, workspace_id=world.workspace_id,
                                     query=RunQuery(status="BLOCKED"), cursor=first.next_cursor,
                                     limit=2)
        today = utcnow().date()
        none_tomorrow = run_lists.list_page(
            session, workspace_id=world.workspace_id,
            query=RunQuery(date_from=(today + timedelta(days=1)).isoformat()))
        with pytest.raises(ValidationFailed):
            run_lists.list_page(session, workspace_id=world.workspace_id,
                                query=RunQuery(date_from="31/01/2026"))
    ids = [r.id for r in first.rows + second.rows]
    assert ids == list(reversed([blocked_run, *others]))
    assert second.next_cursor == ""
    assert none_tomorrow.rows == []


def test_the_dashboard_counts_runs_by_status_and_day(world: Any, blocked_run: str) -> None:
    with read_session() as session:
        overview = dashboard.overview(session, workspace_id=world.workspace_id)
    counts = {c["status"]: c["count"] for c in overview.counts}
    assert counts["BLOCKED"] == 1 and overview.total_runs == 1
    assert len(overview.per_day) == dashboard.CHART_DAYS
    assert overview.per_day[-1]["BLOCKED"] == 1
    assert [a["run_id"] for a in overview.oldest_approvals] == [blocked_run]


def test_the_dashboard_counts_and_lists_overdue_approvals_oldest_first(
        world: Any, blocked_run: str) -> None:
    workflow_id = world.run(blocked_run).workflow_id
    later_run = world.trigger(workflow_id, {"Name": "Bo"})
    fresh_run = world.trigger(workflow_id, {"Name": "Cy"})
    world.drain()
    with write_session() as session:
        for run_id, hours_late in ((blocked_run, 2), (later_run, 5)):
            [row] = world.approvals(run_id)
            row.due_at = utcnow() - timedelta(hours=hours_late)
            session.add(row)
        session.commit()
    with read_session() as session:
        overview = dashboard.overview(session, workspace_id=world.workspace_id)
    assert overview.overdue_count == 2
    assert [a["run_id"] for a in overview.overdue_approvals] == [blocked_run, later_run]
    assert fresh_run not in [a["run_id"] for a in overview.overdue_approvals]
    assert all(a["due_at"] for a in overview.overdue_approvals)
