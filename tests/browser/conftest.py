"""Browser tests: one seeded app (frontend + backend) per session, Debian chromium driven by
Playwright, screenshots of every page at laptop and phone widths in test-artifacts/."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import PROJECT_ROOT, LiveApp

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "demo-password"
ADMIN = "admin@example.com"
APPROVER = "approver@example.com"
APPROVER2 = "approver2@example.com"
VIEWER = "viewer@example.com"
WIDTHS = (1280, 390)
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
UI_TIMEOUT_MS = 15_000


@dataclass
class Demo:
    app: LiveApp
    workspace_id: str
    workflow_id: str
    api_key: str

    @property
    def url(self) -> str:
        return self.app.url

    def api(self, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.api_key}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)

    def has_api(self, path: str) -> bool:
        """Whether the REST API (another issue) already serves this path."""
        response = httpx.get(f"{self.url}/api/v1/openapi.json", timeout=10)
        return response.status_code == 200 and path in response.json().get("paths", {})

    def trigger(self, workflow_id: str, input: dict[str, Any]) -> str:
        """Start a run through the REST API (the CLI when the API is not there yet)."""
        if self.has_api("/api/v1/workflows/{workflow_id}/runs"):
            response = self.api("POST", f"/api/v1/workflows/{workflow_id}/runs",
                                json={"input": input})
            assert response.status_code == 201, response.text
            return response.json()["id"]
        import json

        out = self.app.cli("trigger", workflow_id, json.dumps(input), "--wait", "0",
                           "--workspace", self.workspace_id).stdout
        match = re.search(r"run (run_\w+)", out)
        assert match, out
        return match.group(1)

    @contextlib.contextmanager
    def database(self) -> Iterator[None]:
        """Use the live app's database from the test process (services, not SQL)."""
        from app import db
        from app.settings import reset_settings

        saved = dict(os.environ)
        os.environ.update(DATA_DIR=self.app.env["DATA_DIR"], SECRET_KEY=self.app.env["SECRET_KEY"])
        os.environ.pop("DATABASE_URL", None)
        reset_settings()
        try:
            yield
        finally:
            db.dispose_engines()
            os.environ.clear()
            os.environ.update(saved)
            reset_settings()


# Package scope: the app and Playwright stop when the browser tests end, so later tests run
# without a Playwright event loop left running in the main thread.
@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    app = LiveApp(tmp_path_factory.mktemp("browser-app"), frontend=True)
    seeded = app.cli("seed-demo", "--password", PASSWORD).stdout
    workspace_id = re.search(r"demo workspace: (ws_\w+)", seeded).group(1)  # type: ignore[union-attr]
    workflow_id = re.search(r"demo workflow:\s+(wf_\w+)", seeded).group(1)  # type: ignore[union-attr]
    app.cli("create-user", APPROVER2, PASSWORD, "--role", "approver", "--workspace", workspace_id)
    app.cli("create-user", VIEWER, PASSWORD, "--role", "viewer", "--workspace", workspace_id)
    key = app.cli("mint-api-key", "--name", "browser-tests", "--workspace",
                  workspace_id).stdout.strip().splitlines()[-1]
    app.start()
    try:
        yield Demo(app=app, workspace_id=workspace_id, workflow_id=workflow_id, api_key=key)
    finally:
        app.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def sign_in(page: Any, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("[data-testid=sign-in-submit]")
    page.wait_for_url(lambda url: "/sign-in" not in url, timeout=UI_TIMEOUT_MS)
    page.wait_for_selector("[data-testid=user-email]", state="attached", timeout=UI_TIMEOUT_MS)


_SESSION_COOKIES: dict[str, list[dict[str, Any]]] = {}


@pytest.fixture
def open_as(demo: Demo, browser: Any) -> Iterator[Callable[..., Any]]:
    """open_as(email, width=1280) → a signed-in page in its own browser context.

    The first time per user it signs in through the form; later contexts reuse that session
    cookie (signing out in a tab only drops the tab's cookie, the session stays valid).
    """
    contexts = []

    def opener(email: str | None, width: int = 1280) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        if email and email in _SESSION_COOKIES:
            context.add_cookies(_SESSION_COOKIES[email])
        elif email:
            sign_in(page, demo.url, email)
            _SESSION_COOKIES[email] = [c for c in context.cookies()
                                       if c["name"] == "flowdesk_session"]
        return page

    yield opener
    for context in contexts:
        context.close()


def settle(page: Any) -> None:
    """Wait until the page's own loading placeholders are gone, then for layout to settle."""
    page.wait_for_function(
        "() => !['Checking your session', 'Loading…'].some(t => document.body.innerText"
        ".includes(t))")
    page.wait_for_timeout(300)


def shoot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_overflow(page: Any) -> None:
    """The page never scrolls sideways (wide tables scroll inside their own box)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the viewport"


class FlakyServer:
    """A loopback HTTP target that fails the first `failures` requests, then answers 200;
    it also records POSTed bodies (a webhook receiver)."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.requests = 0
        self.posts: list[tuple[dict[str, str], bytes]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                failing = server.requests <= server.failures
                body = b'{"error": "temporarily broken"}' if failing else b'{"ok": true}'
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                server.posts.append((dict(self.headers), self.rfile.read(length)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/flaky"

    def __enter__(self) -> FlakyServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
