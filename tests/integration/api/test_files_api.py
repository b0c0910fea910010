"""/api/v1/files: multipart upload, metadata with a fresh link, and the token-only download."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.models import SCOPES
from app.services import files
from app.settings import reset_settings
from tests.integration.api.conftest import Tenant, assert_problem, mint

PDF = b"%PDF-1.7\n" + b"x" * 200


def _upload(tenant: Tenant, data: bytes = PDF, name: str = "Rechnung März.pdf",
            content_type: str = "image/png", key: str | None = None) -> httpx.Response:
    return tenant.post("/api/v1/files", files={"file": (name, data, content_type)}, key=key)


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_an_upload_answers_201_with_the_sniffed_type_and_a_download_url(acme: Tenant) -> None:
    response = _upload(acme)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("fil_")
    assert response.headers["location"] == f"/api/v1/files/{body['id']}"
    assert body["name"] == "Rechnung März.pdf"
    assert body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf"  # not the image/png the client claimed
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["created_at"].endswith("Z")
    assert urlsplit(body["download_url"]).path == "/api/v1/files/download"


def test_the_download_streams_the_bytes_without_an_api_key(acme: Tenant) -> None:
    body = _upload(acme).json()
    response = acme.http.get(_path_of(body["download_url"]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Rechnung M_rz.pdf\"; "
        "filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf")


def test_metadata_comes_with_a_fresh_download_url(acme: Tenant) -> None:
    uploaded = _upload(acme).json()
    response = acme.get(f"/api/v1/files/{uploaded['id']}")
    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k != "download_url"} == {
        k: v for k, v in uploaded.items() if k != "download_url"}
    assert acme.http.get(_path_of(body["download_url"])).content == PDF


def test_another_workspaces_file_is_not_found(acme: Tenant, globex: Tenant) -> None:
    uploaded = _upload(acme).json()
    assert_problem(globex.get(f"/api/v1/files/{uploaded['id']}"), 404, "NOT_FOUND")
    token = files.download_token(file_id=uploaded["id"], workspace_id=globex.workspace_id)
    assert_problem(acme.http.get("/api/v1/files/download", params={"token": token}), 404,
                   "NOT_FOUND")


def test_a_file_over_the_upload_cap_is_422_naming_file(
        acme: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "100")
    reset_settings()
    body = assert_problem(_upload(acme), 422, "VALIDATION_ERROR")
    [error] = body["errors"]
    assert error["field"] == "file"
    assert "limit of 100 bytes" in error["message"]


def test_an_upload_without_a_file_part_is_422_naming_file(acme: Tenant) -> None:
    body = assert_problem(acme.post("/api/v1/files", data={"other": "x"}), 422,
                          "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == ["file"]
    for other in ({"data": {"file": "not a file part"}}, {"json": {"file": "x"}}):
        body = assert_problem(acme.post("/api/v1/files", **other), 422, "VALIDATION_ERROR")
        assert [e["field"] for e in body["errors"]] == ["file"]


def test_a_tampered_or_expired_token_is_403(acme: Tenant) -> None:
    uploaded = _upload(acme).json()
    token = parse_qs(urlsplit(uploaded["download_url"]).query)["token"][0]
    # The first character (all six bits used: the last one's low bits may be padding)
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    assert_problem(acme.http.get("/api/v1/files/download", params={"token": tampered}), 403,
                   "FORBIDDEN")
    expired = files.download_token(file_id=uploaded["id"], workspace_id=acme.workspace_id,
                                   ttl_s=-1)
    body = assert_problem(acme.http.get("/api/v1/files/download", params={"token": expired}),
                          403, "FORBIDDEN")
    assert "expired" in body["detail"]


def test_uploading_needs_runs_write_and_reading_needs_runs_read(acme: Tenant) -> None:
    reader = mint(acme.workspace_id, scopes=["runs:read"])
    body = assert_problem(_upload(acme, key=reader), 403, "FORBIDDEN")
    assert body["missing_scope"] == "runs:write"
    uploaded = _upload(acme).json()
    writer = mint(acme.workspace_id, scopes=[s for s in SCOPES if s != "runs:read"])
    assert_problem(acme.get(f"/api/v1/files/{uploaded['id']}", key=writer), 403, "FORBIDDEN")
    assert_problem(acme.http.post("/api/v1/files", files={"file": ("a", PDF)}), 401,
                   "UNAUTHORIZED")


def test_an_upload_may_exceed_the_json_body_cap_up_to_the_upload_cap(acme: Tenant) -> None:
    big = PDF + b"y" * 2_000_000  # over MAX_BODY_BYTES (1 MiB), under MAX_UPLOAD_BYTES
    response = _upload(acme, data=big)
    assert response.status_code == 201, response.text
    assert response.json()["size"] == len(big)
    body = assert_problem(acme.post("/api/v1/workflows", content=b"{" + b" " * 2_000_000 + b"}",
                                    headers={"Content-Type": "application/json"}), 413)
    assert body["detail"].endswith("1048576 bytes")
