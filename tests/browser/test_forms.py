"""Forms pages: an unpublished form says so, and submissions page, filter and export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import ADMIN, Demo, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIELDS = [{"name": "Name", "type": "text", "required": True},
          {"name": "Team", "type": "select", "options": ["Ops", "Sales"]}]


def _form(demo: Demo, title: str, submissions: int = 0) -> tuple[str, str]:
    """A published form without a workflow, with some submissions; (id, slug)."""
    from app.db import write_session
    from app.models import Actor
    from app.services import forms, public_forms

    limiter = public_forms.SubmissionLimiter(10_000, 60)
    with demo.database():
        with write_session() as session:
            form = forms.create_form(session, workspace_id=demo.workspace_id,
                                     actor=Actor.system("browser tests"), title=title,
                                     fields=FIELDS, is_published=True)
        for i in range(submissions):
            with write_session() as session:
                public_forms.submit_public_form(
                    session, slug=form.slug, client="tests", limiter=limiter,
                    data={"Name": f"Person {i:02d}", "Team": "Ops" if i % 2 else "Sales"})
    return form.id, form.slug


def test_an_unpublished_form_says_it_is_closed(demo: Demo, open_as: Any) -> None:
    form_id, slug = _form(demo, "Closing soon")
    visitor = open_as(None)
    visitor.goto(f"{demo.url}/f/{slug}")
    visitor.get_by_test_id("field-Team").wait_for()
    assert visitor.get_by_test_id("field-Team").locator("option").count() == 3

    admin = open_as(ADMIN)
    admin.goto(f"{demo.url}/forms")
    admin.get_by_test_id("form-link").filter(has_text="Closing soon").wait_for()
    settle(admin)
    shoot(admin, "forms")
    admin.goto(f"{demo.url}/forms/{form_id}")
    admin.get_by_test_id("form-unpublish").click()
    admin.get_by_test_id("form-publish").wait_for()

    visitor.get_by_test_id("field-Name").fill("Late")
    visitor.get_by_test_id("submit").click()
    visitor.get_by_test_id("form-closed").wait_for()
    visitor.goto(f"{demo.url}/f/{slug}")
    assert "not accepting responses" in visitor.get_by_test_id("form-closed").inner_text()
    visitor.goto(f"{demo.url}/f/no-such-form")
    assert "no form at this address" in visitor.get_by_test_id("form-closed").inner_text()


def test_submissions_page_by_page_filtered_by_date_and_exported(
        demo: Demo, open_as: Any) -> None:
    form_id, _ = _form(demo, "Many responses", submissions=30)
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/forms/{form_id}/submissions")
    rows = page.get_by_test_id("submission-row")
    rows.first.wait_for()
    assert rows.count() == 25
    assert "Person 29" in rows.first.inner_text()
    page.get_by_test_id("next-page").click()
    page.get_by_text("page 2").wait_for()
    assert rows.count() == 5 and "Person 00" in rows.last.inner_text()
    page.get_by_test_id("prev-page").click()
    page.get_by_text("page 1").wait_for()
    assert rows.count() == 25

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = open(download.value.path(), encoding="utf-8").read()
    exported = list(csv.reader(io.StringIO(text)))
    assert exported[0][:5] == ["submitted_at", "submission_id", "form_version", "Name", "Team"]
    assert len(exported) == 31

    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    page.get_by_test_id("date-from").fill(tomorrow)
    page.get_by_text("None in these dates").wait_for()
    assert rows.count() == 0
