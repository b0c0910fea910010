"""Signed approval links: GET only shows, POST decides, once; bad and reused links say so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import ADMIN, APPROVER, Demo, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _make_link(page: Any, demo: Demo, run_id: str) -> str:
    page.goto(f"{demo.url}/approvals")
    card = page.locator(f"[data-testid=approval-card][data-run-id='{run_id}']")
    card.wait_for(timeout=5_000)
    card.get_by_test_id("link-button").click()
    page.get_by_role("dialog").wait_for()
    page.get_by_role("combobox").last.click()
    page.get_by_role("option", name=APPROVER).click()
    page.get_by_test_id("make-link").click()
    url = page.get_by_test_id("approval-link-url").inner_text()
    shoot(page, "approval-link-dialog")
    return url


def test_a_signed_link_shows_on_get_decides_on_post_and_only_once(
        demo: Demo, open_as: Any) -> None:
    run_id = demo.trigger(demo.workflow_id, {"Full Name": "Katherine Johnson",
                                             "Email": "katherine@example.com",
                                             "Position": "Mathematician"})
    admin = open_as(ADMIN)
    link = _make_link(admin, demo, run_id)
    assert link.startswith(f"{demo.url}/approval-links/")

    # GET (a person, a link preview, a scanner) never decides, however often.
    for _ in range(2):
        shown = httpx.get(link, timeout=10)
        assert shown.status_code == 200
        assert "Approve or reject" in shown.text and "Katherine Johnson" in shown.text
        assert APPROVER in shown.text
        assert shown.headers["cache-control"] == "no-store"
    visitor = open_as(None)
    visitor.goto(link)
    settle(visitor)
    shoot(visitor, "approval-link-get")
    admin.goto(f"{demo.url}/runs/{run_id}")
    admin.locator("[data-testid=run-status]", has_text="BLOCKED").wait_for()

    # The page's button POSTs the decision.
    visitor.fill("#comment", "Approved from my phone")
    visitor.get_by_role("button", name="Approve").click()
    visitor.get_by_text("You approved it").wait_for()
    shoot(visitor, "approval-link-decided")
    admin.locator("[data-testid=run-status]", has_text="COMPLETED").wait_for(timeout=10_000)
    assert APPROVER in admin.get_by_test_id("approval-decision").inner_text()

    # A second use is refused and says why.
    again = httpx.post(link, data={"decision": "rejected"}, timeout=10)
    assert again.status_code == 409
    assert "already used" in again.text
    reopened = httpx.get(link, timeout=10)
    assert "Nothing left to decide" in reopened.text and "approved" in reopened.text


def test_a_tampered_link_is_refused(demo: Demo) -> None:
    response = httpx.get(f"{demo.url}/approval-links/not-a-valid-token", timeout=10)
    assert response.status_code == 404
    assert "not valid" in response.text
    posted = httpx.post(f"{demo.url}/approval-links/not-a-valid-token",
                        data={"decision": "approved"}, timeout=10)
    assert posted.status_code == 404
