"""The live app honours its own OpenAPI document: schemathesis runs its examples, coverage,
fuzzing and stateful (links) phases against /api/v1/openapi.json of the app as a real
subprocess, with every check but positive_data_acceptance: no 5xx, no schema violation, no
undocumented status, content type or header, invalid data refused, auth enforced.

positive_data_acceptance is left out on purpose: a schema cannot say which ids exist, which
cursors were issued or which workflow definitions are valid, so well-typed requests are
rightly refused with 404/422 by rules the document describes in prose.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live import LiveApp

# Found by an outside fuzzer: a line break in a path id got Reflex's bare text 404.
ODD_PATHS = (("DELETE", "/api/v1/credentials/a%0Ab"), ("GET", "/api/v1/runs/a%0Ab"),
             ("GET", "/api/v1/webhooks/%0A"), ("PATCH", "/api/v1/workflows/x%0Ay"),
             ("POST", "/api/v1/runs/a%0Ab/cancel"), ("GET", "/api/v1/schedules/%0D%0A"))


def assert_odd_paths_are_problems(url: str, key: str) -> None:
    for method, path in ODD_PATHS:
        response = httpx.request(method, f"{url}{path}", json={} if method != "GET" else None,
                                 headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert response.status_code in (404, 422), (path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), path
        assert response.headers["x-request-id"].startswith("req_"), path
        assert "ratelimit-policy" in response.headers, (path, response.headers)
    # Seed 002's routes (/v1) answer in their own envelope, whatever the path holds.
    response = httpx.get(f"{url}/v1/workflows/a%0Ab", timeout=30,
                         headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404 and response.json()["success"] is False, response.text

HOOKS = Path(__file__).resolve().parent / "schemathesis_hooks.py"
MAX_EXAMPLES = 20
TIME_BUDGET_S = 600


@pytest.mark.slow
@pytest.mark.timeout(TIME_BUDGET_S)
def test_the_live_api_honours_its_openapi_document(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    app = LiveApp(tmp_path / "app", RATE_LIMIT_READ_PER_MIN="1000000",
                  RATE_LIMIT_WRITE_PER_MIN="1000000", MAX_CONCURRENT_RUNS="1000000")
    app.migrate_and_seed()
    key = app.cli("mint-api-key", "--name", "schemathesis").stdout.strip().splitlines()[-1]
    app.start()
    seed = random.randrange(1 << 31)
    with capsys.disabled():  # shown in the test command's output, pass or fail
        print(f"\nschemathesis seed {seed} (repeat with --seed {seed})")
    try:
        assert_odd_paths_are_problems(app.url, key)
        schemathesis = Path(sys.executable).parent / "schemathesis"
        result = subprocess.run(
            [str(schemathesis), "run", f"{app.url}/api/v1/openapi.json",
             "--header", f"Authorization: Bearer {key}",
             "--phases", "examples,coverage,fuzzing,stateful",
             "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--max-examples", str(MAX_EXAMPLES), "--seed", str(seed), "--no-shrink",
             "--workers", "2",
             "--request-timeout", "45", "--no-color"],
            cwd=tmp_path, env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
            capture_output=True, text=True, timeout=TIME_BUDGET_S - 60, check=False)
    finally:
        app.stop()
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"seed {seed}\n" + report[-12000:]
    assert "generated" in report and " 0 generated" not in report
    assert "Traceback" not in app.log_text(), app.log_text()[-5000:]
