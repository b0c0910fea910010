"""The mailer as a process runs it: a commit that owes email wakes the job, which sends."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.models import RunStatus
from app.scheduler import Background
from app.settings import get_settings, reset_settings
from tests.integration.mail.test_approval_emails import flow
from tests.smtp_support import Inbox


def test_a_new_item_is_emailed_by_the_background_job(world: Any, smtp: tuple[Inbox, int],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, _ = smtp
    monkeypatch.setenv("POLL_INTERVAL_S", "30")  # only a wake-up can explain a fast email
    reset_settings()
    jobs = Background(get_settings())
    jobs.start()
    try:
        time.sleep(0.3)
        run_id = world.trigger(world.publish(flow(assignees=["role:approver"]), title="Hiring"))
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        jobs.stop()
    assert world.run(run_id).status == RunStatus.BLOCKED
    assert [m["Subject"] for m in inbox.messages] == ["Approval needed: Hiring"]
