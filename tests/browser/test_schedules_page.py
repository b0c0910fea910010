"""The Schedules page of a workflow: a bad cron's error under its field, the live preview in
words with five due times, field errors that keep what was typed, a saved schedule listed,
Run now in its history with a link to the run, pause shown as Paused, an edited schedule's new
timing in its row; read-only for viewers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    ADMIN,
    UI_TIMEOUT_MS,
    VIEWER,
    Demo,
    no_horizontal_overflow,
    settle,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = "/tmp/schedules_page.png"
RUN_ID = re.compile(r"^run_\w+$")


def _open(page: Any, demo: Demo) -> None:
    page.goto(f"{demo.url}/workflows/{demo.workflow_id}/schedules")
    settle(page)
    expect(page.get_by_role("heading", name="Employee onboarding")).to_be_visible()


def _save_new(page: Any, name: str, cron: str, person: str, email: str) -> Any:
    """Save a new schedule with the workflow's required inputs; its row."""
    page.get_by_test_id("schedule-name").fill(name)
    page.get_by_test_id("schedule-cron").fill(cron)
    page.get_by_test_id("field-input.Full Name").fill(person)
    page.get_by_test_id("field-input.Email").fill(email)
    page.get_by_test_id("save-schedule").click()
    return page.get_by_test_id("schedule-row").filter(has_text=name)


def test_a_schedule_is_previewed_saved_run_now_and_paused(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    _open(page, demo)
    cron = page.get_by_test_id("schedule-cron")

    cron.fill("99 9 * * *")
    expect(page.get_by_test_id("cron-error")).to_contain_text("minute: 99 is out of range")
    expect(page.get_by_test_id("cron-words")).to_have_count(0)

    page.get_by_test_id("schedule-zone").fill("UTC")
    cron.fill("0 9 * * 1-5")
    expect(page.get_by_test_id("cron-words")).to_have_text("At 09:00, on Monday to Friday")
    expect(page.get_by_test_id("cron-next")).to_have_count(5)
    expect(page.get_by_test_id("cron-next").first).to_contain_text("09:00 UTC")
    expect(page.get_by_test_id("cron-error")).to_have_count(0)

    # The workflow's required inputs are missing: errors under them, nothing typed is lost.
    page.get_by_test_id("schedule-name").fill("Weekday intake")
    page.get_by_test_id("field-input.Position").fill("Engineer")
    page.get_by_test_id("save-schedule").click()
    expect(page.get_by_test_id("error-input.Full Name")).to_contain_text("required")
    expect(page.get_by_test_id("schedule-name")).to_have_value("Weekday intake")
    expect(page.get_by_test_id("field-input.Position")).to_have_value("Engineer")
    expect(cron).to_have_value("0 9 * * 1-5")

    page.get_by_test_id("field-input.Full Name").fill("Ada Lovelace")
    page.get_by_test_id("field-input.Email").fill("ada@example.com")
    page.get_by_test_id("save-schedule").click()
    row = page.get_by_test_id("schedule-row").filter(has_text="Weekday intake")
    expect(row).to_contain_text("At 09:00, on Monday to Friday")
    expect(row).to_contain_text("0 9 * * 1-5")
    expect(row.get_by_test_id("schedule-state")).to_have_text("Enabled")
    expect(cron).to_have_value("")

    row.get_by_test_id("run-now").click()
    started = page.get_by_test_id("started-run-link")
    expect(started).to_have_text(RUN_ID)
    run_id = started.inner_text().strip()
    history = page.get_by_test_id("schedule-history")
    fire = history.get_by_test_id("fire-row").filter(has_text=run_id)
    expect(fire.get_by_test_id("fire-kind")).to_have_text("run now")
    expect(fire.get_by_test_id("run-link")).to_have_attribute("href", f"/runs/{run_id}")
    expect(row.get_by_test_id("run-link")).to_have_text(run_id)

    row.get_by_test_id("toggle-schedule").click()
    expect(row.get_by_test_id("schedule-state")).to_have_text("Paused")
    expect(row.get_by_test_id("toggle-schedule")).to_have_text("Resume")
    cron.fill("*/15 8-17 * * 1-5")  # the preview too, for the screenshot
    expect(page.get_by_test_id("cron-next")).to_have_count(5)
    no_horizontal_overflow(page)
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.reload()
    settle(page)
    row = page.get_by_test_id("schedule-row").filter(has_text="Weekday intake")
    expect(row.get_by_test_id("schedule-state")).to_have_text("Paused")


def test_an_edited_schedule_shows_its_new_timing_and_a_bad_cron_changes_nothing(
        demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    _open(page, demo)
    page.get_by_test_id("schedule-zone").fill("UTC")
    row = _save_new(page, "Morning digest", "0 9 * * *", "Alan Turing", "alan@example.com")
    expect(row).to_contain_text("At 09:00, every day")

    # Edit loads the schedule into the form, preview included.
    row.get_by_test_id("edit-schedule").click()
    cron = page.get_by_test_id("schedule-cron")
    save = page.get_by_test_id("save-schedule")
    expect(save).to_have_text("Save changes")
    expect(cron).to_have_value("0 9 * * *")
    expect(page.get_by_test_id("schedule-name")).to_have_value("Morning digest")
    expect(page.get_by_test_id("field-input.Email")).to_have_value("alan@example.com")
    expect(page.get_by_test_id("cron-words")).to_have_text("At 09:00, every day")

    # A bad cron: its error under the field, the row as it was, nothing typed lost.
    page.get_by_test_id("schedule-name").fill("Early digest")
    cron.fill("99 7 * * *")
    save.click()
    expect(page.get_by_test_id("cron-error")).to_contain_text("minute: 99 is out of range")
    expect(row).to_contain_text("0 9 * * *")
    expect(row).to_contain_text("At 09:00, every day")
    expect(page.get_by_test_id("schedule-name")).to_have_value("Early digest")
    expect(save).to_have_text("Save changes")

    cron.fill("30 7 * * *")
    expect(page.get_by_test_id("cron-words")).to_have_text("At 07:30, every day")
    save.click()
    row = page.get_by_test_id("schedule-row").filter(has_text="Early digest")
    expect(row).to_contain_text("At 07:30, every day")
    expect(row).to_contain_text("30 7 * * *")
    expect(row).to_contain_text("07:30 UTC")
    expect(page.get_by_test_id("schedule-row").filter(has_text="Morning digest")).to_have_count(0)
    expect(save).to_have_text("Save schedule")
    expect(cron).to_have_value("")

    # Cancel edit returns the form to a new schedule.
    row.get_by_test_id("edit-schedule").click()
    expect(cron).to_have_value("30 7 * * *")
    page.get_by_test_id("cancel-edit").click()
    expect(save).to_have_text("Save schedule")
    expect(cron).to_have_value("")
    expect(page.get_by_test_id("schedule-name")).to_have_value("")
    expect(page.get_by_test_id("cancel-edit")).to_have_count(0)


def test_an_unknown_time_zone_is_named_under_its_field(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    _open(page, demo)
    page.get_by_test_id("schedule-cron").fill("@daily")
    page.get_by_test_id("schedule-zone").fill("Mars/Olympus")
    expect(page.get_by_test_id("zone-error")).to_contain_text("unknown time zone")
    page.get_by_test_id("save-schedule").click()
    expect(page.get_by_test_id("zone-error")).to_contain_text("unknown time zone")
    expect(page.get_by_test_id("schedule-row").filter(has_text="@daily")).to_have_count(0)


def test_a_schedule_is_deleted_after_confirming(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    _open(page, demo)
    row = _save_new(page, "Short-lived", "30 7 1 * *", "Grace Hopper", "grace@example.com")
    expect(row).to_be_visible()
    row.get_by_test_id("delete-schedule").click()
    page.get_by_test_id("confirm-delete").click()
    expect(row).to_have_count(0)


def test_a_viewer_sees_schedules_but_is_told_they_cannot_change_them(
        demo: Demo, open_as: Any) -> None:
    page = open_as(VIEWER, width=390)
    _open(page, demo)
    no_horizontal_overflow(page)
    expect(page.get_by_test_id("no-build-permission")).to_contain_text(
        "only builders and admins")
    expect(page.get_by_test_id("save-schedule")).to_have_count(0)



def test_the_zone_defaults_to_the_browsers_and_due_times_show_in_it(
        demo: Demo, browser: Any) -> None:
    context = browser.new_context(timezone_id="Europe/Berlin",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    try:
        page = context.new_page()
        sign_in(page, demo.url, ADMIN)
        _open(page, demo)
        expect(page.get_by_test_id("schedule-zone")).to_have_value("Europe/Berlin")
        page.get_by_test_id("schedule-cron").fill("0 9 * * *")
        expect(page.get_by_test_id("cron-words")).to_have_text("At 09:00, every day")
        expect(page.get_by_test_id("cron-next").first).to_contain_text("09:00 CE")
    finally:
        context.close()


def test_the_builder_links_to_the_schedules_and_a_missing_workflow_is_named(
        demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/workflows/{demo.workflow_id}")
    settle(page)
    page.get_by_test_id("open-schedules").click()
    page.wait_for_url(f"**/workflows/{demo.workflow_id}/schedules")
    expect(page.get_by_test_id("save-schedule")).to_be_visible()
    page.goto(f"{demo.url}/workflows/wf_missing/schedules")
    expect(page.get_by_role("alert")).to_contain_text("not found")
