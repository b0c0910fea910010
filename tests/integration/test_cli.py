"""The command line: migrate, seed the demo, mint a key (secret alone on the last line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from app.crypto import sha256_hex
from app.db import read_session
from app.models import ApiKey
from tests.live import PROJECT_ROOT, base_env


def cli(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=PROJECT_ROOT,
                          env=base_env(tmp_path, url, SECRET_KEY="test-secret-key-that-is-long-"
                                       "enough-for-tests"), capture_output=True, text=True)


def test_seed_demo_then_mint_key_prints_the_secret_alone_last(sqlite_db: str,
                                                             tmp_path: Path) -> None:
    assert cli(tmp_path, sqlite_db, "seed-demo", "--password", "demo-password").returncode == 0
    minted = cli(tmp_path, sqlite_db, "mint-api-key", "--scopes", "runs:read,runs:write")
    assert minted.returncode == 0, minted.stderr
    secret = minted.stdout.strip().splitlines()[-1]
    assert secret.startswith("fdk_")
    with read_session() as session:
        key = session.exec(select(ApiKey)).one()
    assert key.secret_hash == sha256_hex(secret)
    assert key.scopes == ["runs:read", "runs:write"]


def test_trigger_with_bad_input_exits_non_zero_with_the_fields(sqlite_db: str,
                                                               tmp_path: Path) -> None:
    cli(tmp_path, sqlite_db, "seed-demo", "--password", "demo-password")
    with read_session() as session:
        from app.models import Workflow

        workflow = session.exec(select(Workflow)).one()
    result = cli(tmp_path, sqlite_db, "trigger", workflow.id, '{"Email": "x"}', "--wait", "0")
    assert result.returncode == 2
    assert "Full Name" in result.stderr and "Email" in result.stderr
