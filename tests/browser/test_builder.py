"""The visual builder, end to end: a workflow built on the canvas by clicking and typing, its
form, an anonymous submission, and the run blocked on the approval; a stale save refused."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.browser.conftest import ADMIN, Demo, no_horizontal_overflow, settle, shoot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONDITION = "steps.approval.decision == 'approved'"


class Receiver:
    """A loopback HTTP target for the http step: records each request, answers 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length).decode()})
                body = b'{"account": "created"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/accounts"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- canvas helpers


def node(page: Any, key: str) -> Any:
    return page.get_by_test_id(f"node-{key}")


def select_step(page: Any, key: str) -> None:
    node(page, key).click()
    page.locator(f"[data-testid=step-key][value='{key}']").wait_for()


def add_step(page: Any, kind: str, key: str) -> None:
    page.get_by_test_id(f"palette-{kind}").click()
    node(page, key).wait_for()
    page.locator(f"[data-testid=step-key][value='{key}']").wait_for()


def type_into(page: Any, test_id: str, text: str) -> None:
    field = page.get_by_test_id(test_id)
    field.fill(text)
    field.press("Tab")  # blur: the debounced input sends its value now


def settled_box(locator: Any, timeout_s: float = 5.0) -> dict[str, float]:
    """The element's box once the canvas stops moving: adding a step re-fits the view with an
    animation, and a box read during it sends the drag to where the element was."""
    deadline = time.monotonic() + timeout_s
    last = locator.bounding_box()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        box = locator.bounding_box()
        if box == last and box is not None:
            return box
        last = box
    assert last is not None
    return last


def drag_link(page: Any, source: str, port: str, target: str) -> None:
    """Drag from a step's port handle onto the target step's input handle."""
    start = settled_box(page.get_by_test_id(f"handle-{source}-{port}"))
    end = settled_box(node(page, target).locator(".fd-handle-in"))
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def problems_of(page: Any, key: str) -> int:
    return int(node(page, key).get_attribute("data-problems") or 0)


def wait_problems(page: Any, key: str, count: int) -> None:
    page.wait_for_function(
        "([key, n]) => { const el = document.querySelector(`[data-testid=node-${key}]`);"
        " return el && Number(el.dataset.problems) === n; }", arg=[key, count])


# ---------------------------------------------------------------- the journey


def _build_workflow(page: Any, demo: Demo, receiver_url: str) -> str:
    page.goto(f"{demo.url}/workflows")
    page.get_by_test_id("new-workflow").click()
    page.get_by_test_id("new-workflow-title").fill("Vendor onboarding")
    page.get_by_test_id("create-workflow").click()
    page.wait_for_url("**/workflows/wf_*")
    workflow_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    node(page, "input").wait_for()

    # input: two fields
    select_step(page, "input")
    for index, (kind, name) in enumerate((("text", "Vendor"), ("email", "Email"))):
        page.get_by_test_id("input-add-field").click()
        page.get_by_test_id(f"input-add-field-{kind}").click()
        type_into(page, f"input-field-name-{index}", name)
        page.get_by_test_id(f"input-field-required-{index}").click()
    page.locator("[data-testid=input-field-name-1][value=Email]").wait_for()

    # http, linked after the input by the palette
    add_step(page, "http", "http")
    page.get_by_test_id("step-method").select_option("POST")
    type_into(page, "step-url", receiver_url)
    type_into(page, "step-body", '{"vendor": "{{ input.Vendor }}"}')
    page.get_by_test_id("headers-add").click()
    type_into(page, "headers-key-0", "X-Vendor-Email")
    page.get_by_test_id("names-headers:0").click()  # the template-name picker
    page.get_by_role("menuitem", name="input.Email", exact=True).click()
    page.locator("[data-testid=headers-value-0][value='{{ input.Email }}']").wait_for()
    wait_problems(page, "http", 0)

    # approval, then branch
    add_step(page, "approval", "approval")
    type_into(page, "step-instructions", "Review {{ input.Vendor }}")
    add_step(page, "branch", "branch")
    wait_problems(page, "branch", 1)  # the empty condition is flagged on the node
    type_into(page, "branch-if-0", CONDITION)
    wait_problems(page, "branch", 0)

    # a tool added while the branch is selected is not linked: a dangling node
    add_step(page, "tool", "tool")
    wait_problems(page, "tool", 1)
    assert "unreachable" in page.get_by_test_id("problems").inner_text()
    page.get_by_test_id("args-add").click()
    type_into(page, "args-key-0", "message")
    type_into(page, "args-value-0", "Welcome {{ input.Vendor }}")
    drag_link(page, "branch", "branch:0", "tool")  # fix it by linking it on the canvas
    wait_problems(page, "tool", 0)

    # the second tool: found from the problems list, linked to the branch's else
    select_step(page, "branch")
    add_step(page, "tool", "tool_2")
    node(page, "input").click()
    page.get_by_test_id("problem-item").filter(has_text="tool_2").click()
    page.locator("[data-testid=step-key][value=tool_2]").wait_for()
    page.get_by_test_id("step-tool").select_option("log")
    drag_link(page, "branch", "else", "tool_2")
    page.get_by_test_id("no-problems").wait_for()

    # move a node: its position is part of the draft
    box = settled_box(node(page, "tool_2"))
    page.mouse.move(box["x"] + 60, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + 140, box["y"] + 52, steps=8)
    page.mouse.up()
    page.get_by_test_id("unsaved-badge").wait_for()
    settle(page)
    shoot(page, "builder")

    page.get_by_test_id("save").click()
    page.get_by_test_id("unsaved-badge").wait_for(state="detached")
    page.get_by_test_id("publish").click()
    page.get_by_text("Published version 1").wait_for()
    return workflow_id


def _check_stored(demo: Demo, workflow_id: str) -> None:
    from app.db import read_session
    from app.services import builder

    with demo.database(), read_session() as session:
        definition = builder.version_definition(session, workspace_id=demo.workspace_id,
                                                workflow_id=workflow_id, number=1)
    steps = definition["steps"]
    assert definition["start"] == "input"
    assert [f["name"] for f in steps["input"]["fields"]] == ["Vendor", "Email"]
    assert steps["input"]["next"] == "http" and steps["http"]["next"] == "approval"
    assert steps["http"]["method"] == "POST"
    assert steps["http"]["headers"] == {"X-Vendor-Email": "{{ input.Email }}"}
    assert steps["approval"]["next"] == "branch"
    assert steps["branch"]["branches"] == [{"if": CONDITION, "then": "tool"}]
    assert steps["branch"]["else"] == "tool_2" and steps["tool_2"]["tool"] == "log"
    assert set(definition["layout"]) == set(steps)


def _build_form(page: Any, demo: Demo) -> str:
    page.goto(f"{demo.url}/forms")
    page.get_by_test_id("new-form").click()
    page.get_by_test_id("new-form-title").fill("Vendor intake")
    page.get_by_test_id("new-form-workflow").select_option(label="Vendor onboarding")
    page.get_by_test_id("create-form").click()
    page.wait_for_url("**/forms/frm_*")
    page.locator("[data-testid=form-field-name-1][value=Email]").wait_for()
    type_into(page, "form-field-help-1", "We send the account details here")
    # A field the workflow does not take is warned about, then removed.
    page.get_by_test_id("form-add-field").click()
    page.get_by_test_id("form-add-field-textarea").click()
    page.get_by_test_id("mapping-warnings").filter(has_text="not a workflow input").wait_for()
    page.get_by_test_id("form-field-remove-2").click()
    page.get_by_test_id("mapping-warnings").wait_for(state="detached")
    type_into(page, "form-description", "Tell us who to onboard.")
    page.get_by_test_id("form-preview").get_by_text("We send the account details here").wait_for()
    page.get_by_test_id("form-save").click()
    page.get_by_test_id("unsaved-badge").wait_for(state="detached")
    page.get_by_test_id("form-publish").click()
    link = page.get_by_test_id("public-link")
    link.wait_for()
    settle(page)
    shoot(page, "form-builder")
    return link.inner_text().strip()


def _submit_publicly(page: Any, demo: Demo, path: str) -> None:
    page.goto(f"{demo.url}{path}")
    page.get_by_test_id("field-Vendor").fill("Acme Ltd")
    page.get_by_test_id("field-Email").fill("not-an-email")
    page.get_by_test_id("submit").click()
    error = page.get_by_test_id("error-Email")
    error.wait_for()
    assert "valid email" in error.inner_text()
    assert page.get_by_test_id("field-Vendor").input_value() == "Acme Ltd"
    assert page.get_by_test_id("error-Vendor").count() == 0
    settle(page)
    shoot(page, "public-form-error")
    page.get_by_test_id("field-Email").fill("ops@acme.test")
    page.get_by_test_id("submit").click()
    page.get_by_test_id("thanks").wait_for()
    page.get_by_test_id("run-status").filter(has_text="BLOCKED").wait_for(timeout=20_000)
    shoot(page, "public-form-thanks")


def test_a_workflow_built_on_the_canvas_runs_from_its_public_form(
        demo: Demo, open_as: Any) -> None:
    with Receiver() as receiver:
        page = open_as(ADMIN)
        workflow_id = _build_workflow(page, demo, receiver.url)
        _check_stored(demo, workflow_id)
        form_path = _build_form(page, demo)
        assert form_path.startswith("/f/")

        visitor = open_as(None)  # anonymous: no sign-in
        _submit_publicly(visitor, demo, form_path)

        assert len(receiver.requests) == 1
        sent = receiver.requests[0]
        assert json.loads(sent["body"]) == {"vendor": "Acme Ltd"}
        assert sent["headers"]["X-Vendor-Email"] == "ops@acme.test"

    page.goto(f"{demo.url}/forms")
    page.get_by_test_id("form-link").filter(has_text="Vendor intake").wait_for()
    page.locator("[data-testid=form-link]", has_text="Vendor intake").locator(
        "xpath=ancestor::tr").get_by_test_id("submissions-link").click()
    page.get_by_test_id("submission-row").wait_for()
    settle(page)
    shoot(page, "submissions")
    page.get_by_test_id("submission-run").click()
    page.wait_for_url("**/runs/run_*")
    page.locator("[data-testid=run-status]", has_text="BLOCKED").wait_for()
    page.locator("[data-testid=step-card][data-step-key=approval]").wait_for()
    _cancel(demo, page.url.rstrip("/").rsplit("/", 1)[-1])


def _workflow(demo: Demo, title: str, *definitions: dict[str, Any],
              publish: bool = True) -> str:
    """A workflow made through the services, published once per definition given."""
    from app.db import write_session
    from app.models import Actor
    from app.services import workflows

    actor = Actor.system("browser tests")
    with demo.database():
        with write_session() as session:
            workflow_id = workflows.create_workflow(
                session, workspace_id=demo.workspace_id, actor=actor, title=title,
                definition=definitions[0]).id
        for definition in definitions:
            with write_session() as session:
                workflows.save_workflow(session, workspace_id=demo.workspace_id,
                                        workflow_id=workflow_id, actor=actor,
                                        expected_version=None, definition=definition)
            if publish:
                with write_session() as session:
                    workflows.publish_workflow(session, workspace_id=demo.workspace_id,
                                               workflow_id=workflow_id, actor=actor)
    return workflow_id


def _cancel(demo: Demo, run_id: str) -> None:
    """Leave no pending approval behind for the other browser tests' inboxes."""
    from app.db import write_session
    from app.models import Actor
    from app.services.runs import cancel_run

    with demo.database(), write_session() as session:
        cancel_run(session, workspace_id=demo.workspace_id, run_id=run_id,
                   actor=Actor.system("browser tests"))


GREETING: dict[str, Any] = {
    "start": "ask",
    "steps": {
        "ask": {"kind": "input", "fields": [{"name": "Name", "type": "text",
                                             "required": True}], "next": "hold"},
        "hold": {"kind": "signal", "title": "Wait for a signal", "next": "greet"},
        "greet": {"kind": "tool", "tool": "set", "args": {"text": "Hi {{ input.Name }}"}},
    },
}


def test_a_stale_save_is_refused_and_offers_to_reload(demo: Demo, open_as: Any) -> None:
    from app.db import write_session
    from app.models import Actor
    from app.services import workflows

    workflow_id = _workflow(demo, "Greeting", GREETING, publish=False)
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/workflows/{workflow_id}")
    node(page, "ask").wait_for()
    page.get_by_test_id("workflow-title").fill("Greeting (my edit)")
    page.get_by_test_id("unsaved-badge").wait_for()

    with demo.database(), write_session() as session:  # meanwhile, through the services
        workflows.save_workflow(session, workspace_id=demo.workspace_id,
                                workflow_id=workflow_id, actor=Actor.system("other tab"),
                                expected_version=None, title="Greeting (edited elsewhere)")

    page.get_by_test_id("save").click()
    conflict = page.get_by_test_id("conflict")
    conflict.wait_for()
    assert "changed elsewhere" in conflict.inner_text()
    with demo.database(), write_session() as session:
        stored = workflows.get_workflow(session, workspace_id=demo.workspace_id,
                                        workflow_id=workflow_id)
        assert stored.title == "Greeting (edited elsewhere)"  # not overwritten
    settle(page)
    shoot(page, "builder-conflict")

    page.get_by_test_id("reload-latest").click()
    conflict.wait_for(state="detached")
    assert page.get_by_test_id("workflow-title").input_value() == "Greeting (edited elsewhere)"
    assert page.get_by_test_id("unsaved-badge").count() == 0


def test_a_test_run_of_the_unpublished_draft_opens_its_timeline(
        demo: Demo, open_as: Any) -> None:
    workflow_id = _workflow(demo, "Greeting draft", GREETING, publish=False)
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/workflows/{workflow_id}")
    node(page, "ask").wait_for()
    page.get_by_test_id("test-run").click()
    page.get_by_test_id("start-test-run").click()  # the required Name is missing
    page.get_by_test_id("error-Name").wait_for()
    page.get_by_test_id("field-Name").fill("Ada")
    page.get_by_test_id("start-test-run").click()
    page.wait_for_url("**/runs/run_*")
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    page.locator("[data-testid=run-status]", has_text="BLOCKED").wait_for()
    page.locator("[data-testid=step-card][data-step-key=hold]").wait_for()
    _cancel(demo, run_id)


def test_versions_open_read_only_and_restore_as_the_draft(demo: Demo, open_as: Any) -> None:
    longer = json.loads(json.dumps(GREETING))
    longer["steps"]["greet"]["next"] = "bye"
    longer["steps"]["bye"] = {"kind": "tool", "tool": "log", "args": {"message": "bye"}}
    workflow_id = _workflow(demo, "Greeting versions", GREETING, longer)
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/workflows/{workflow_id}")
    node(page, "bye").wait_for()
    page.get_by_test_id("tab-versions").click()
    rows = page.get_by_test_id("versions").locator("tbody tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert "browser tests" in rows.nth(1).inner_text()
    rows.nth(1).get_by_test_id("open-version").click()  # version 1
    page.get_by_text("Viewing published version 1").wait_for()
    node(page, "bye").wait_for(state="detached")
    assert page.get_by_test_id("palette-http").is_disabled()
    page.get_by_test_id("restore-open-version").click()
    page.get_by_text("Version 1 is the draft again").wait_for()
    assert node(page, "bye").count() == 0
    assert page.get_by_test_id("unsaved-badge").count() == 0


SEED_FLOW = {"start": {"name": "Greet", "tool": "set", "args": {"x": 1}, "next": "gate"},
             "gate": {"name": "Wait for ready", "tool": None, "done": True}}


def _row_action(page: Any, title: str, action: str) -> None:
    page.get_by_role("menu").wait_for(state="detached")  # the previous menu has closed
    row = page.get_by_test_id("workflow-row").filter(
        has=page.get_by_test_id("workflow-link").get_by_text(title, exact=True))
    row.get_by_test_id("workflow-actions").click()
    page.get_by_role("menuitem", name=action).click()


def test_the_list_imports_exports_duplicates_and_deletes(demo: Demo, open_as: Any) -> None:
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/workflows")
    page.get_by_test_id("open-import").click()
    page.locator("input[name=title]").fill("Seed flow")
    page.get_by_test_id("import-json").fill(json.dumps(SEED_FLOW))
    page.get_by_test_id("import-submit").click()
    page.wait_for_url("**/workflows/wf_*")
    node(page, "gate").wait_for()
    assert "signal" in node(page, "gate").inner_text()

    page.goto(f"{demo.url}/workflows")
    page.get_by_test_id("workflow-search").fill("seed flow")
    with page.expect_download() as download:
        _row_action(page, "Seed flow", "Export JSON")
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert exported["title"] == "Seed flow"
    assert exported["definition"]["steps"]["gate"]["kind"] == "signal"

    _row_action(page, "Seed flow", "Duplicate")
    page.wait_for_url("**/workflows/wf_*")
    page.locator("[data-testid=workflow-title][value='Copy of Seed flow']").wait_for()
    page.goto(f"{demo.url}/workflows")
    page.get_by_test_id("workflow-search").fill("seed flow")
    page.get_by_test_id("workflow-link").get_by_text("Copy of Seed flow").wait_for()
    settle(page)
    shoot(page, "workflows-search")
    _row_action(page, "Copy of Seed flow", "Delete…")
    page.get_by_test_id("confirm-delete").click()
    page.get_by_test_id("workflow-link").get_by_text("Copy of Seed flow").wait_for(
        state="detached")
    assert page.get_by_test_id("workflow-link").get_by_text("Seed flow", exact=True).count() == 1


def test_links_are_moved_and_removed_steps_deleted_and_json_applied(
        demo: Demo, open_as: Any) -> None:
    workflow_id = _workflow(demo, "Greeting edits", GREETING, publish=False)
    page = open_as(ADMIN)
    page.goto(f"{demo.url}/workflows/{workflow_id}")
    select_step(page, "greet")
    add_step(page, "tool", "tool")  # linked after greet
    page.get_by_test_id("no-problems").wait_for()

    # Drag the end of hold → greet onto the new tool: greet is left unreachable.
    anchor = settled_box(page.get_by_test_id("rf__edge-hold>next").locator(
        ".react-flow__edgeupdater-target"))
    target = settled_box(node(page, "tool").locator(".fd-handle-in"))
    page.mouse.move(anchor["x"] + anchor["width"] / 2, anchor["y"] + anchor["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + target["height"] / 2,
                    steps=12)
    page.mouse.up()
    wait_problems(page, "greet", 1)

    # Remove the link from the side panel: the tool is left unreachable too.
    handle = settled_box(page.get_by_test_id("handle-hold-next"))
    page.mouse.click(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] + 14)
    page.get_by_test_id("remove-link").click()
    wait_problems(page, "tool", 1)
    assert page.get_by_test_id("publish").is_disabled()

    select_step(page, "greet")
    page.get_by_test_id("delete-step").click()
    node(page, "greet").wait_for(state="detached")

    page.get_by_test_id("tab-json").click()
    assert '"tool"' in page.get_by_test_id("json-text").input_value()
    fixed = json.loads(json.dumps(GREETING))
    fixed["steps"]["ask"]["title"] = "Ask for a name"
    page.get_by_test_id("json-text").fill(json.dumps(fixed))
    page.get_by_test_id("apply-json").click()
    page.get_by_test_id("tab-canvas").click()
    node(page, "greet").wait_for()
    assert "Ask for a name" in node(page, "ask").inner_text()
    page.get_by_test_id("no-problems").wait_for()
    assert page.get_by_test_id("publish").is_enabled()


def test_builder_and_form_pages_fit_a_phone(demo: Demo, open_as: Any) -> None:
    from app.db import read_session
    from app.repo.forms import form_by_slug

    with demo.database(), read_session() as session:
        form = form_by_slug(session, "employee-onboarding")
        assert form is not None
        form_id = form.id
    page = open_as(ADMIN, width=390)
    for name, path, ready in (
            ("builder", f"/workflows/{demo.workflow_id}", "node-intake"),
            ("form-builder", f"/forms/{form_id}", "form-preview"),
            ("submissions", f"/forms/{form_id}/submissions", "export-csv")):
        page.goto(f"{demo.url}{path}")
        page.get_by_test_id(ready).wait_for()
        settle(page)
        shoot(page, name)
        no_horizontal_overflow(page)
    for width in (390, 1280):
        visitor = open_as(None, width=width)
        visitor.goto(f"{demo.url}/f/employee-onboarding")
        visitor.get_by_test_id("submit").wait_for()
        settle(visitor)
        shoot(visitor, "public-form")
        no_horizontal_overflow(visitor)
