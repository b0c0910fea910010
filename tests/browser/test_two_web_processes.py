"""Two web processes behind one Redis (issue 7): pages served by either process stay live. An
approval decided in one process's page disappears from an inbox served by the other."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.browser.conftest import APPROVER, PASSWORD, settle, sign_in
from tests.live import LiveApp, copy_project

pytestmark = [pytest.mark.browser, pytest.mark.slow]
LIVE_WITHIN_MS = 2_000
APPROVER_B = "approver-b@example.com"


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, LiveApp, str]]:
    root = tmp_path_factory.mktemp("two-web")
    redis_db = random.randint(8, 15)
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    redis.Redis.from_url(redis_url).flushdb()
    database = f"sqlite:///{root / 'shared.db'}"
    env = {"REDIS_URL": redis_url, "GRANIAN_WORKERS": "1"}
    first = LiveApp(root / "one", frontend=True, database_url=database, **env)
    seeded = first.cli("seed-demo", "--password", PASSWORD).stdout
    workspace = re.search(r"demo workspace: (ws_\w+)", seeded).group(1)  # type: ignore[union-attr]
    workflow = re.search(r"demo workflow:\s+(wf_\w+)", seeded).group(1)  # type: ignore[union-attr]
    first.cli("create-user", APPROVER_B, PASSWORD, "--role", "approver", "--workspace", workspace)
    key = first.cli("mint-api-key", "--scopes", "runs:write,runs:read", "--workspace",
                    workspace).stdout.strip().splitlines()[-1]
    second = LiveApp(root / "two", frontend=True, database_url=database,
                     cwd=copy_project(root / "copy"), **env)
    first.start()
    second.start()
    try:
        yield first, second, f"{workflow}|{key}"
    finally:
        first.stop()
        second.stop()
        redis.Redis.from_url(redis_url).flushdb()


def inbox(page: Any, base_url: str, email: str) -> None:
    sign_in(page, base_url, email)
    page.goto(f"{base_url}/approvals")
    page.get_by_test_id("tab-mine").wait_for()
    settle(page)


def card(page: Any, run_id: str) -> Any:
    return page.locator(f"[data-testid=approval-card][data-run-id='{run_id}']")


def test_a_decision_in_one_process_clears_the_inbox_served_by_the_other(
        two_apps: tuple[LiveApp, LiveApp, str], browser: Any) -> None:
    first, second, ids = two_apps
    workflow_id, key = ids.split("|")
    assert first.port != second.port and Path(first.cwd) != Path(second.cwd)
    contexts = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        deciding, watching = (context.new_page() for context in contexts)
        inbox(deciding, first.url, APPROVER)
        inbox(watching, second.url, APPROVER_B)
        response = httpx.post(f"{first.url}/api/v1/workflows/{workflow_id}/runs", timeout=30,
                              headers={"Authorization": f"Bearer {key}"},
                              json={"input": {"Full Name": "Ada Lovelace",
                                              "Email": "ada@example.com"}})
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
        card(deciding, run_id).wait_for(timeout=LIVE_WITHIN_MS + 3_000)
        card(watching, run_id).wait_for(timeout=LIVE_WITHIN_MS + 3_000)
        card(deciding, run_id).get_by_test_id("approve-button").click()
        card(deciding, run_id).wait_for(state="detached")
        card(watching, run_id).wait_for(state="detached", timeout=LIVE_WITHIN_MS)
    finally:
        for context in contexts:
            context.close()
