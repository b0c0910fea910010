"""The TypeScript client (clients/typescript) against the app as a real subprocess: its
example, run by the venv's Node (which strips the types itself), triggers a run of the demo
workflow, reads it back and replays the trigger with the same Idempotency-Key.

The test command type-checks the client against a freshly generated schema first
(`npm ci && npm run check` in scripts/test.sh); this test installs the packages itself when
they are missing, so it also runs alone."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import PROJECT_ROOT, LiveApp

CLIENT_DIR = PROJECT_ROOT / "clients" / "typescript"
VENV_BIN = Path(sys.executable).parent
NODE_TIMEOUT_S = 60
NPM_TIMEOUT_S = 300


def _node_env(app: LiveApp, key: str) -> dict[str, str]:
    return {**app.env, "FLOWDESK_URL": app.url, "FLOWDESK_API_KEY": key,
            "NODE_NO_WARNINGS": "1"}


def _run_example(app: LiveApp, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VENV_BIN / "node"), "examples/trigger-and-read.ts"],
                          cwd=CLIENT_DIR, env=_node_env(app, key), capture_output=True,
                          text=True, timeout=NODE_TIMEOUT_S, check=False)


@pytest.fixture(scope="module")
def installed() -> None:
    """The client's npm packages, from its lock file (the test command installs them)."""
    if not (CLIENT_DIR / "node_modules" / "openapi-fetch").is_dir():
        subprocess.run([str(VENV_BIN / "npm"), "ci", "--no-audit", "--no-fund"],
                       cwd=CLIENT_DIR, check=True, capture_output=True,
                       timeout=NPM_TIMEOUT_S)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    app = LiveApp(tmp_path_factory.mktemp("typescript") / "app")
    app.migrate_and_seed()
    app.start()
    yield app
    app.stop()


@pytest.mark.slow
def test_the_typescript_example_triggers_a_run_and_reads_it_back(installed: None,
                                                                  app: LiveApp) -> None:
    key = app.cli("mint-api-key", "--name", "typescript").stdout.strip().splitlines()[-1]
    result = _run_example(app, key)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["run_id"].startswith("run_")
    assert shown["workflow_title"] == "Employee onboarding"
    assert shown["status"] == "BLOCKED"  # on the manager's approval, waited for
    assert shown["steps"][-1] == {"key": "manager", "kind": "approval", "status": "waiting"}
    assert shown["replay"] == {"run_id": shown["run_id"], "replayed": True}
    assert "Traceback" not in app.log_text()


@pytest.mark.slow
def test_an_unknown_key_fails_with_the_problem_code(installed: None, app: LiveApp) -> None:
    result = _run_example(app, "fdk_not_a_key")
    assert result.returncode != 0
    assert result.stderr.startswith("FlowdeskError: 401 UNAUTHORIZED"), result.stderr
