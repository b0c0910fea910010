"""Every page at laptop (1280 px) and phone (390 px) widths: screenshots, no sideways scroll."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import (
    ADMIN,
    WIDTHS,
    Demo,
    no_horizontal_overflow,
    settle,
    shoot,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIGNED_IN_PAGES = {
    "dashboard": "/",
    "workflows": "/workflows",
    "forms": "/forms",
    "runs": "/runs",
    "approvals": "/approvals",
    "settings-api-keys": "/settings/api-keys",
    "settings-webhooks": "/settings/webhooks",
    "settings-credentials": "/settings/credentials",
    "settings-members": "/settings/members",
}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_the_screen(demo: Demo, open_as: Any, width: int) -> None:
    run_id = demo.trigger(demo.workflow_id, {"Full Name": f"Screen {width}",
                                             "Email": "screen@example.com",
                                             "Position": "Tester"})
    visitor = open_as(None, width=width)
    visitor.goto(f"{demo.url}/sign-in")
    settle(visitor)
    no_horizontal_overflow(visitor)
    shoot(visitor, "sign-in")

    page = open_as(ADMIN, width=width)
    pages = {**SIGNED_IN_PAGES, "run-timeline": f"/runs/{run_id}"}
    for name, path in pages.items():
        page.goto(f"{demo.url}{path}")
        page.get_by_test_id("user-email").first.wait_for(state="attached")
        settle(page)
        shoot(page, name)
        no_horizontal_overflow(page)
    if width < 1024:
        page.get_by_test_id("menu-button").click()
        page.get_by_test_id("nav-runs").last.wait_for()
        shoot(page, "phone-menu-open")
