"""Signing in and out, the guard on signed-in pages, and the throttle message."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import ADMIN, Demo, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back_after_signing_in(
        demo: Demo, open_as: Any) -> None:
    page = open_as(None)
    page.goto(f"{demo.url}/runs")
    page.wait_for_url("**/sign-in**")
    assert "next=%2Fruns" in page.url
    page.fill("#email", ADMIN)
    page.fill("#password", "wrong-password")
    page.click("[data-testid=sign-in-submit]")
    page.get_by_text("Wrong email or password").wait_for()
    shoot(page, "sign-in-error")
    page.fill("#password", "demo-password")
    page.click("[data-testid=sign-in-submit]")
    page.wait_for_url("**/runs**")
    assert page.get_by_test_id("user-email").first.inner_text() == ADMIN


def test_signing_out_ends_the_session(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/")
    page.get_by_test_id("sign-out").first.click()
    page.wait_for_url("**/sign-in**")
    assert not any(c["name"] == "flowdesk_session" and c["value"]
                   for c in page.context.cookies())
    page.goto(f"{demo.url}/approvals")
    page.wait_for_url("**/sign-in**")


def test_repeated_wrong_passwords_are_throttled_with_a_message(demo: Demo,
                                                               open_as: Any) -> None:
    email = "throttled@example.com"
    demo.app.cli("create-user", email, "demo-password", "--role", "viewer",
                 "--workspace", demo.workspace_id)
    page = open_as(None)
    page.goto(f"{demo.url}/sign-in")
    for _ in range(6):
        page.fill("#email", email)
        page.fill("#password", "not-the-password")
        page.click("[data-testid=sign-in-submit]")
        page.wait_for_timeout(250)
        page.wait_for_selector("[data-testid=sign-in-submit]:not([disabled])")
    page.fill("#password", "demo-password")
    page.click("[data-testid=sign-in-submit]")
    page.get_by_text("Too many failed sign-ins").wait_for()
    assert "/sign-in" in page.url


def test_a_signed_in_tab_skips_the_sign_in_page(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/sign-in")
    page.wait_for_url(lambda url: "/sign-in" not in url)


def test_a_member_of_two_workspaces_switches_between_them(demo: Demo, open_as: Any) -> None:
    from app.db import read_session, write_session
    from app.models import Actor
    from app.repo import accounts as accounts_repo
    from app.services import accounts

    with demo.database():
        system = Actor.system("browser tests")
        with write_session() as session:
            other = accounts.create_workspace(session, name="Zulu team", actor=system)
        with read_session() as session:
            admin = accounts_repo.user_by_email(session, ADMIN)
        assert admin is not None
        with write_session() as session:
            accounts.add_member(session, workspace_id=other.id, user_id=admin.id,
                                role="viewer", actor=system)
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/")
    page.get_by_test_id("workspace-switcher").first.click()
    page.get_by_role("option", name="Zulu team").click()
    page.get_by_test_id("user-role").filter(has_text="viewer").first.wait_for()
    assert page.get_by_test_id("nav-settings").count() == 0  # a viewer there
    page.get_by_test_id("count-BLOCKED").get_by_text("0", exact=True).wait_for()  # its own runs
    page.get_by_test_id("oldest-approvals").get_by_text("No approval is waiting.").wait_for()
    shoot(page, "workspace-switched")
    page.get_by_test_id("workspace-switcher").first.click()
    page.get_by_role("option", name="Demo workspace").click()
    page.get_by_test_id("user-role").filter(has_text="admin").first.wait_for()


def test_an_unknown_address_shows_a_page_that_leads_back(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/dashboard")
    page.get_by_test_id("not-found").wait_for()
    assert "does not exist" in page.get_by_test_id("not-found").inner_text()
    shoot(page, "not-found")
    page.get_by_text("Go to the dashboard").click()
    page.wait_for_url(f"{demo.url}/")
    page.get_by_test_id("user-email").first.wait_for()
