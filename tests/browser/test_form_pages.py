"""A two-page public form with a conditional field and a file, submitted anonymously; the
submission pinned to the form's version, and its file on the submissions page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ADMIN, APPROVER, Demo, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
FIELDS = [
    {"name": "Name", "type": "text", "required": True},
    {"name": "Reason", "type": "select", "required": True, "options": ["Travel", "Other"]},
    {"name": "Details", "type": "text", "required": True, "show_if": 'Reason == "Other"'},
    {"name": "Receipt", "type": "file", "required": True, "page": 2,
     "accept": ["application/pdf"], "max_bytes": 100_000},
]
PAGES = [{"title": "Your request"}, {"title": "Attachments"}]


def _form(demo: Demo) -> tuple[str, str]:
    response = demo.api("POST", "/api/v1/forms", json={
        "title": "Expense claim", "fields": FIELDS, "pages": PAGES, "is_published": True})
    assert response.status_code == 201, response.text
    return response.json()["id"], response.json()["slug"]


def _submissions(demo: Demo, form_id: str) -> list[dict[str, Any]]:
    response = demo.api("GET", f"/api/v1/forms/{form_id}/submissions")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _choose(page: Any, field: str, path: Path) -> None:
    page.get_by_test_id(f"upload-{field}").locator("input[type=file]").set_input_files(
        str(path))


def test_two_page_form_with_a_conditional_field_and_a_file(
        demo: Demo, open_as: Any, tmp_path: Path) -> None:
    form_id, slug = _form(demo)
    visitor = open_as(None)
    visitor.goto(f"{demo.url}/f/{slug}")
    visitor.get_by_test_id("field-Name").wait_for()
    assert visitor.get_by_test_id("progress").inner_text() == "Page 1 of 2"
    assert visitor.get_by_test_id("page-title").inner_text() == "Your request"
    assert visitor.get_by_test_id("field-Details").count() == 0

    visitor.get_by_test_id("field-Name").fill("Ada")
    visitor.get_by_test_id("field-Reason").select_option("Other")
    visitor.get_by_test_id("field-Details").wait_for()
    visitor.get_by_test_id("next").click()
    # The shown conditional field is required, and the page says so under it.
    visitor.get_by_test_id("error-Details").wait_for()
    assert "required" in visitor.get_by_test_id("error-Details").inner_text()
    visitor.get_by_test_id("field-Details").fill("Conference ticket")
    visitor.get_by_test_id("next").click()
    visitor.get_by_test_id("upload-Receipt").wait_for()
    assert visitor.get_by_test_id("page-title").inner_text() == "Attachments"

    # Back keeps what was typed.
    visitor.get_by_test_id("back").click()
    visitor.get_by_test_id("field-Name").wait_for()
    assert visitor.get_by_test_id("field-Name").input_value() == "Ada"
    assert visitor.get_by_test_id("field-Details").input_value() == "Conference ticket"
    visitor.get_by_test_id("next").click()
    visitor.get_by_test_id("upload-Receipt").wait_for()

    visitor.get_by_test_id("submit").click()
    visitor.get_by_test_id("error-Receipt").wait_for()
    text = tmp_path / "receipt.pdf"  # a text file named .pdf: its bytes say what it is
    text.write_text("not really a PDF")
    _choose(visitor, "Receipt", text)
    visitor.get_by_text("this field takes application/pdf").or_(
        visitor.get_by_text("allowed: application/pdf")).wait_for()
    pdf = tmp_path / "taxi.pdf"
    pdf.write_bytes(PDF)
    _choose(visitor, "Receipt", pdf)
    visitor.get_by_test_id("file-Receipt").wait_for()
    assert visitor.get_by_test_id("file-Receipt").inner_text() == "taxi.pdf"
    settle(visitor)
    shoot(visitor, "public-form-page-2")
    visitor.get_by_test_id("submit").click()
    visitor.get_by_test_id("thanks").wait_for()

    [sent] = _submissions(demo, form_id)
    assert sent["form_version"] == 1
    assert sent["data"]["Name"] == "Ada" and sent["data"]["Details"] == "Conference ticket"
    receipt = sent["data"]["Receipt"]
    assert receipt["name"] == "taxi.pdf" and receipt["content_type"] == "application/pdf"
    assert receipt["size"] == len(PDF)

    # Travel hides Details: it is neither asked for nor stored.
    other = open_as(None)
    other.goto(f"{demo.url}/f/{slug}")
    other.get_by_test_id("field-Name").fill("Grace")
    other.get_by_test_id("field-Reason").select_option("Travel")
    other.get_by_test_id("next").click()
    other.get_by_test_id("upload-Receipt").wait_for()
    _choose(other, "Receipt", pdf)
    other.get_by_test_id("file-Receipt").wait_for()
    other.get_by_test_id("submit").click()
    other.get_by_test_id("thanks").wait_for()
    newest = _submissions(demo, form_id)[0]
    assert newest["data"]["Name"] == "Grace" and "Details" not in newest["data"]

    admin = open_as(ADMIN)
    admin.goto(f"{demo.url}/forms/{form_id}/submissions")
    admin.get_by_test_id("submission-row").first.wait_for()
    assert "v1" in admin.get_by_test_id("submission-row").first.inner_text()
    link = admin.get_by_test_id("submission-file").first
    assert link.inner_text() == "taxi.pdf"
    href = link.get_attribute("href")
    downloaded = admin.request.get(href if href.startswith("http") else demo.url + href)
    assert downloaded.status == 200 and downloaded.body() == PDF
    settle(admin)
    shoot(admin, "form-submissions-with-files")


FILE_FLOW = {"start": "request", "steps": {
    "request": {"kind": "input", "next": "sign",
                "fields": [{"name": "contract", "type": "file", "required": True}]},
    "sign": {"kind": "approval", "assignees": [APPROVER], "instructions": "Sign it",
             "fields": [{"name": "signed", "type": "file", "required": True,
                         "accept": ["application/pdf"]}],
             "next": "filed"},
    "filed": {"kind": "tool", "tool": "set", "done": True,
              "args": {"signed_copy": "{{ steps.sign.fields.signed.name }}"}}}}


def test_a_run_started_with_a_file_and_an_approver_attaching_one(
        demo: Demo, open_as: Any, tmp_path: Path) -> None:
    created = demo.api("POST", "/api/v1/workflows",
                       json={"title": "Contract signing", "definition": FILE_FLOW})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert demo.api("POST", f"/api/v1/workflows/{workflow_id}/publish").status_code == 201
    uploaded = demo.api("POST", "/api/v1/files", files={"file": ("contract.pdf", PDF)})
    assert uploaded.status_code == 201, uploaded.text
    run_id = demo.trigger(workflow_id, {"contract": uploaded.json()["id"]})

    approver = open_as(APPROVER)
    approver.goto(f"{demo.url}/approvals")
    card = approver.locator(f"[data-testid=approval-card][data-run-id='{run_id}']")
    card.wait_for()
    assert card.get_by_test_id("file-link").inner_text() == "contract.pdf"
    card.get_by_test_id("approve-button").click()
    card.get_by_test_id("approver-error-signed").wait_for()
    card.get_by_test_id("approver-attach-signed").click()
    dialog = approver.get_by_test_id("approver-upload")
    wrong = tmp_path / "signed.pdf"
    wrong.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    dialog.locator("input[type=file]").set_input_files(str(wrong))
    approver.get_by_test_id("attach-error").wait_for()
    assert "image/png" in approver.get_by_test_id("attach-error").inner_text()
    signed = tmp_path / "signed-copy.pdf"
    signed.write_bytes(PDF)
    dialog.locator("input[type=file]").set_input_files(str(signed))
    card.get_by_test_id("approver-field-signed").filter(has_text="signed-copy.pdf").wait_for()
    card.get_by_test_id("approve-button").click()
    card.wait_for(state="detached")

    approver.goto(f"{demo.url}/runs/{run_id}")
    approver.locator("[data-testid=run-status]", has_text="COMPLETED").wait_for()
    links = approver.get_by_test_id("file-link")
    assert sorted(links.all_inner_texts()) == ["contract.pdf", "signed-copy.pdf"]
    settle(approver)
    shoot(approver, "run-with-files")
    run = demo.api("GET", f"/api/v1/runs/{run_id}").json()
    assert run["outputs"]["filed"]["signed_copy"] == "signed-copy.pdf"


def test_the_builder_adds_a_page_shows_a_field_problem_and_publishes_changes(
        demo: Demo, open_as: Any) -> None:
    response = demo.api("POST", "/api/v1/forms", json={
        "title": "Onboarding", "is_published": True,
        "fields": [{"name": "team", "type": "select", "options": ["ops", "sales"]},
                   {"name": "laptop", "type": "checkbox"}]})
    assert response.status_code == 201, response.text
    form_id, slug = response.json()["id"], response.json()["slug"]
    admin = open_as(ADMIN)
    admin.goto(f"{demo.url}/forms/{form_id}")
    admin.get_by_test_id("published-badge").wait_for()
    assert "v1" in admin.get_by_test_id("published-badge").inner_text()
    admin.get_by_test_id("form-add-page").click()
    admin.get_by_test_id("form-page-title-1").fill("Equipment")
    admin.get_by_test_id("form-field-page-1").fill("2")
    admin.get_by_test_id("form-field-show_if-1").fill('nobody == "x"')
    admin.get_by_test_id("form-save").click()
    problem = admin.get_by_test_id("form-field-problem-1")
    problem.wait_for()
    assert "'nobody' is not an earlier field" in problem.inner_text()
    admin.get_by_test_id("form-field-show_if-1").fill('team == "ops"')
    admin.get_by_test_id("form-save").click()
    admin.get_by_test_id("draft-badge").wait_for()
    assert admin.get_by_test_id("form-field-problem-1").count() == 0
    # Saved, not yet live: the public page still serves version 1 (one page).
    visitor = open_as(None)
    visitor.goto(f"{demo.url}/f/{slug}")
    visitor.get_by_test_id("field-laptop").wait_for()
    assert visitor.get_by_test_id("progress").count() == 0
    admin.get_by_test_id("form-publish-changes").click()
    admin.get_by_test_id("published-badge").filter(has_text="v2").wait_for()
    settle(admin)
    shoot(admin, "form-builder-pages")
    visitor.goto(f"{demo.url}/f/{slug}")
    visitor.get_by_test_id("field-team").select_option("sales")
    visitor.get_by_test_id("submit").wait_for()  # laptop is hidden: page 2 has nothing shown
    assert visitor.get_by_test_id("progress").count() == 0
    visitor.get_by_test_id("field-team").select_option("ops")
    visitor.get_by_test_id("progress").filter(has_text="Page 1 of 2").wait_for()
    visitor.get_by_test_id("next").click()
    visitor.get_by_test_id("field-laptop").wait_for()
    assert visitor.get_by_test_id("page-title").inner_text() == "Equipment"
