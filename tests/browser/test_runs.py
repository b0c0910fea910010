"""Runs list and the live run timeline: retrying a FLAGGED step."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import ADMIN, Demo, FlakyServer, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _publish_flaky_workflow(demo: Demo, url: str) -> str:
    from app.db import write_session
    from app.models import Actor
    from app.services import workflows

    definition = {
        "start": "fetch",
        "steps": {
            "fetch": {"kind": "http", "method": "GET", "url": url, "timeout_s": 5,
                      "retry": {"max_attempts": 1}, "next": "note"},
            "note": {"kind": "tool", "tool": "set", "args": {"message": "fetched"},
                     "done": True},
        },
    }
    actor = Actor.system("browser tests")
    with demo.database():
        with write_session() as session:
            workflow = workflows.create_workflow(session, workspace_id=demo.workspace_id,
                                                 actor=actor, title="Flaky fetch",
                                                 definition=definition)
        with write_session() as session:
            workflows.publish_workflow(session, workspace_id=demo.workspace_id,
                                       workflow_id=workflow.id, actor=actor)
    return workflow.id


def test_retrying_a_flagged_step_from_the_timeline_completes_the_run(
        demo: Demo, open_as: Any) -> None:
    with FlakyServer(failures=1) as target:
        workflow_id = _publish_flaky_workflow(demo, target.url)
        run_id = demo.trigger(workflow_id, {})
        page = open_as(ADMIN)
        page.goto(f"{demo.url}/runs/{run_id}")
        page.locator("[data-testid=run-status]", has_text="FLAGGED").wait_for(timeout=10_000)
        failed = page.locator("[data-testid=step-card][data-step-key=fetch][data-status=failed]")
        assert "HTTP 500" in failed.inner_text()
        shoot(page, "run-flagged")

        page.get_by_test_id("retry-step").click()
        page.locator("[data-testid=run-status]", has_text="COMPLETED").wait_for(timeout=10_000)
        fetches = page.locator("[data-testid=step-card][data-step-key=fetch]")
        assert fetches.count() == 2  # the failed attempt stays on the timeline
        assert fetches.nth(1).get_attribute("data-status") == "done"
        assert page.get_by_test_id("retry-step").count() == 0
        assert target.requests == 2

    # The runs list filters by status and links to the timeline.
    page.goto(f"{demo.url}/runs?status=COMPLETED")
    row = page.locator(f"[data-testid=run-row][data-run-id='{run_id}']")
    row.wait_for()
    page.goto(f"{demo.url}/runs?status=FLAGGED")
    page.get_by_test_id("filter-status").wait_for()
    settle(page)
    assert page.locator(f"[data-testid=run-row][data-run-id='{run_id}']").count() == 0


def test_cancelling_a_blocked_run_from_the_timeline(demo: Demo, open_as: Any) -> None:
    run_id = demo.trigger(demo.workflow_id, {"Full Name": "Cancel Me", "Email": "c@example.com",
                                             "Position": "Temp"})
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/runs/{run_id}")
    page.locator("[data-testid=run-status]", has_text="BLOCKED").wait_for(timeout=10_000)
    page.get_by_test_id("cancel-run").click()
    page.get_by_test_id("confirm-cancel").click()
    page.locator("[data-testid=run-status]", has_text="CANCELLED").wait_for()
    assert page.get_by_test_id("cancel-run").count() == 0
    manager = page.locator("[data-testid=step-card][data-step-key=manager]")
    assert manager.get_attribute("data-status") == "cancelled"


def test_rerun_from_a_step_on_the_timeline(demo: Demo, open_as: Any) -> None:
    with FlakyServer(failures=1) as target:
        workflow_id = _publish_flaky_workflow(demo, target.url)
        run_id = demo.trigger(workflow_id, {})
        page = open_as(ADMIN)
        page.goto(f"{demo.url}/runs/{run_id}")
        page.locator("[data-testid=run-status]", has_text="FLAGGED").wait_for(timeout=10_000)
        page.get_by_test_id("rerun-button").click()
        page.locator("#rerun-from").select_option("fetch")
        steps = page.get_by_test_id("rerun-step")
        steps.first.wait_for()
        assert steps.count() == 2 and "http" in steps.first.inner_text()
        assert "call" in steps.first.inner_text().lower()  # flagged as a side effect
        shoot(page, "rerun-dialog")
        page.get_by_test_id("confirm-rerun").click()
        page.wait_for_url(re.compile(r"/runs/run_(?!" + run_id[4:] + ")"), timeout=10_000)
        page.locator("[data-testid=run-status]", has_text="COMPLETED").wait_for(timeout=10_000)
        origin = page.get_by_test_id("run-origin")
        assert "Re-run of" in origin.inner_text() and run_id in origin.inner_text()
        new_id = page.url.rsplit("/", 1)[-1]
        assert target.requests == 2
    page.goto(f"{demo.url}/runs/{run_id}")  # the old run links to the new one
    related = page.get_by_test_id("related-run")
    related.first.wait_for()
    assert new_id in related.first.inner_text() and "re-run" in related.first.inner_text()
