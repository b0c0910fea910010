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
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import LiveApp

HOOKS = Path(__file__).resolve().parent / "schemathesis_hooks.py"
MAX_EXAMPLES = 20
TIME_BUDGET_S = 600


@pytest.mark.slow
@pytest.mark.timeout(TIME_BUDGET_S)
def test_the_live_api_honours_its_openapi_document(tmp_path: Path) -> None:
    app = LiveApp(tmp_path / "app", RATE_LIMIT_READ_PER_MIN="1000000",
                  RATE_LIMIT_WRITE_PER_MIN="1000000", MAX_CONCURRENT_RUNS="1000000")
    app.migrate_and_seed()
    key = app.cli("mint-api-key", "--name", "schemathesis").stdout.strip().splitlines()[-1]
    app.start()
    try:
        schemathesis = Path(sys.executable).parent / "schemathesis"
        result = subprocess.run(
            [str(schemathesis), "run", f"{app.url}/api/v1/openapi.json",
             "--header", f"Authorization: Bearer {key}",
             "--phases", "examples,coverage,fuzzing,stateful",
             "--checks", "all", "--exclude-checks", "positive_data_acceptance",
             "--max-examples", str(MAX_EXAMPLES), "--no-shrink", "--workers", "2",
             "--request-timeout", "45", "--no-color"],
            cwd=tmp_path, env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)},
            capture_output=True, text=True, timeout=TIME_BUDGET_S - 60, check=False)
    finally:
        app.stop()
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-12000:]
    assert "generated" in report and " 0 generated" not in report
    assert "Traceback" not in app.log_text(), app.log_text()[-5000:]
