"""The live approvals inbox: items arrive and leave without reload; roles decide who decides."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.conftest import APPROVER, APPROVER2, VIEWER, Demo, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LIVE_WITHIN_MS = 2_000


def _card(page: Any, run_id: str) -> Any:
    return page.locator(f"[data-testid=approval-card][data-run-id='{run_id}']")


def _open_inbox(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/approvals")
    page.get_by_test_id("tab-mine").wait_for()
    settle(page)


def test_a_new_approval_appears_live_and_approving_it_completes_the_run(
        demo: Demo, open_as: Any) -> None:
    first, second = open_as(APPROVER), open_as(APPROVER2)
    _open_inbox(first, demo)
    _open_inbox(second, demo)

    run_id = demo.trigger(demo.workflow_id, {"Full Name": "Grace Hopper",
                                             "Email": "grace@example.com",
                                             "Position": "Rear admiral"})
    started = time.monotonic()
    # Both eligible approvers get the item without reloading (the run needs a moment to
    # reach the approval step; the 2 s budget counts from the trigger's answer).
    _card(first, run_id).wait_for(timeout=LIVE_WITHIN_MS + 1_000)
    _card(second, run_id).wait_for(timeout=LIVE_WITHIN_MS + 1_000)
    assert time.monotonic() - started < (LIVE_WITHIN_MS + 1_000) / 1000
    card = _card(first, run_id)
    assert "Approve onboarding of Grace Hopper" in card.inner_text()
    assert "grace@example.com" in card.inner_text()  # the run's input is shown
    shoot(first, "approvals-pending")

    card.get_by_test_id("approval-comment").fill("Welcome aboard")
    card.get_by_test_id("approve-button").click()
    _card(first, run_id).wait_for(state="detached")
    # The other approver's inbox loses the item without a reload.
    _card(second, run_id).wait_for(state="detached", timeout=LIVE_WITHIN_MS + 1_000)

    first.goto(f"{demo.url}/runs/{run_id}")
    first.locator("[data-testid=run-status]", has_text="COMPLETED").wait_for(timeout=10_000)
    decision = first.get_by_test_id("approval-decision")
    assert "approved" in decision.inner_text() and APPROVER in decision.inner_text()
    assert "Welcome aboard" in decision.inner_text()
    welcome = first.locator("[data-testid=step-card][data-step-key=welcome]")
    assert welcome.get_attribute("data-status") == "done"
    shoot(first, "run-completed")

    # The decided tab keeps the history.
    second.get_by_test_id("tab-decided").click()
    _card(second, run_id).wait_for()
    assert "Welcome aboard" in _card(second, run_id).inner_text()
    shoot(second, "approvals-decided")


def test_a_viewer_sees_pending_approvals_but_cannot_decide_or_open_settings(
        demo: Demo, open_as: Any) -> None:
    run_id = demo.trigger(demo.workflow_id, {"Full Name": "Alan Turing",
                                             "Email": "alan@example.com",
                                             "Position": "Cryptanalyst"})
    page = open_as(VIEWER)
    _open_inbox(page, demo)
    card = _card(page, run_id)
    card.wait_for(timeout=5_000)
    assert card.get_by_test_id("view-only").count() == 1
    assert card.get_by_test_id("approve-button").count() == 0
    assert page.get_by_test_id("cannot-decide").count() == 1
    shoot(page, "approvals-viewer")
    # No settings in the navigation, and the settings pages send the viewer away.
    assert page.get_by_test_id("nav-settings").count() == 0
    for path in ("/settings", "/settings/api-keys", "/settings/members"):
        page.goto(f"{demo.url}{path}")
        page.wait_for_url(lambda url: "/settings" not in url)
        assert page.get_by_test_id("minted-secret").count() == 0
    # The timeline offers no operator actions either.
    page.goto(f"{demo.url}/runs/{run_id}")
    page.get_by_test_id("run-status").wait_for()
    assert page.get_by_test_id("cancel-run").count() == 0


QUORUM_FLOW = {"start": "request", "steps": {
    "request": {"kind": "input", "fields": [{"name": "item", "type": "text", "required": True}],
                "next": "sign_off"},
    "sign_off": {"kind": "approval", "assignees": ["role:approver"], "mode": "quorum",
                 "quorum": 2, "instructions": "Approve {{ input.item }}",
                 "fields": [{"name": "cost_centre", "type": "select",
                             "options": ["IT", "Sales"], "required": True}],
                 "next": "order"},
    "order": {"kind": "tool", "tool": "set", "done": True,
              "args": {"order": "{{ input.item }} for {{ steps.sign_off.fields.cost_centre }}"}}}}


def test_approver_fields_and_a_quorum_of_two_in_the_inbox(demo: Demo, open_as: Any) -> None:
    created = demo.api("POST", "/api/v1/workflows",
                       json={"title": "Laptop purchase", "definition": QUORUM_FLOW})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert demo.api("POST", f"/api/v1/workflows/{workflow_id}/publish").status_code == 201
    run_id = demo.trigger(workflow_id, {"item": "ThinkPad X1"})
    first, second = open_as(APPROVER), open_as(APPROVER2)

    _open_inbox(first, demo)
    card = _card(first, run_id)
    card.wait_for(timeout=10_000)
    card.get_by_test_id("approve-button").click()  # the approver field is required
    card.get_by_test_id("approver-error-cost_centre").wait_for(timeout=5_000)
    card.locator("select[data-testid=approver-field-cost_centre]").select_option("IT")
    card.get_by_test_id("approval-comment").fill("Needed for the new hire")
    card.get_by_test_id("approve-button").click()
    card.get_by_test_id("my-vote").wait_for(timeout=5_000)
    assert "1 of 2 approvals" in card.get_by_test_id("approval-progress").inner_text()

    _open_inbox(second, demo)
    other = _card(second, run_id)
    other.wait_for(timeout=10_000)
    assert "1 of 2 approvals" in other.inner_text() and APPROVER in other.inner_text()
    other.locator("select[data-testid=approver-field-cost_centre]").select_option("Sales")
    other.get_by_test_id("approve-button").click()
    other.wait_for(state="detached", timeout=5_000)

    second.goto(f"{demo.url}/runs/{run_id}")
    second.locator("[data-testid=run-status]", has_text="COMPLETED").wait_for(timeout=10_000)
    votes = second.get_by_test_id("timeline-vote")
    assert votes.count() == 2
    assert APPROVER in votes.nth(0).inner_text() and "cost_centre: IT" in votes.nth(0).inner_text()
    assert APPROVER2 in votes.nth(1).inner_text()
    assert "2 of 2 approvals" in second.get_by_test_id("timeline-approval-progress").inner_text()
    shoot(second, "run-quorum-votes")
