"""`python -m app.cli export-openapi PATH`: the document /api/v1/openapi.json serves, written
without a server (the TypeScript client's types are generated from it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.api.main import create_api
from app.cli import main


def test_export_writes_the_served_document_to_a_new_folder(sqlite_db: str,
                                                           tmp_path: Path) -> None:
    target = tmp_path / "client" / "openapi.json"
    main(["export-openapi", str(target)])
    served = json.loads(json.dumps(create_api().openapi()))
    assert json.loads(target.read_text(encoding="utf-8")) == served


def test_export_to_a_dash_prints_the_document(sqlite_db: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    main(["export-openapi", "-"])
    document = json.loads(capsys.readouterr().out)
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/workflows/{workflow_id}/runs" in document["paths"]
