"""Uploads and signed downloads on a real database, with the local-disk storage and with the
S3 storage against a real (moto) S3 server on loopback."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlmodel import select

from app.clock import utcnow
from app.db import read_session, write_session
from app.errors import Forbidden, NotFound, ValidationFailed
from app.files.storage import InvalidKey, LocalStorage, S3Storage, get_storage
from app.models import Actor, AuditLog, StoredFile
from app.services import accounts, files
from app.settings import reset_settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n" + b"x" * 100


def _workspace(name: str) -> Actor:
    with write_session() as session:
        workspace = accounts.create_workspace(session, name=name, actor=Actor.system("tests"))
    return Actor.api_key(key_id=f"key_{name}", prefix=f"fd_{name}", workspace_id=workspace.id,
                         scopes=frozenset())


@pytest.fixture
def acme(database: str) -> Actor:
    return _workspace("acme")


def _upload(actor: Actor, data: bytes | BinaryIO, name: str = "doc.bin",
            **limits: Any) -> StoredFile:
    with write_session() as session:
        return files.upload(session, actor=actor, name=name, data=data, **limits)


def _read(token: str, **kwargs: Any) -> bytes:
    with read_session() as session:
        opened = files.download(session, token=token, **kwargs)
    with opened.stream as stream:
        return stream.read()


def _field_message(error: pytest.ExceptionInfo[ValidationFailed]) -> str:
    [problem] = error.value.errors
    assert problem.field == "file"
    return problem.message


def test_an_upload_stores_the_bytes_on_disk_and_a_row_with_its_sniffed_type(
        acme: Actor, tmp_path: Path) -> None:
    stored = _upload(acme, PNG, name="../../secret/photo.jpg")
    assert stored.id.startswith("fil_")
    assert (stored.name, stored.size, stored.content_type) == ("photo.jpg", len(PNG), "image/png")
    assert stored.sha256 == hashlib.sha256(PNG).hexdigest()
    assert stored.created_by == "fd_acme" and stored.run_id is None
    assert (tmp_path / "files" / stored.storage_key).read_bytes() == PNG
    with read_session() as session:
        assert session.get(StoredFile, stored.id) is not None
        audit = session.exec(select(AuditLog).where(AuditLog.resource_id == stored.id)).one()
    assert audit.action == "file.uploaded"


def test_a_stream_is_read_only_up_to_the_limit(acme: Actor) -> None:
    stream = io.BytesIO(b"a" * 10_000)
    with pytest.raises(ValidationFailed) as error:
        _upload(acme, stream, max_bytes=100)
    assert "limit of 100 bytes" in _field_message(error)
    assert stream.tell() == 101


def test_the_global_cap_applies_even_when_the_caller_allows_more(
        acme: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "50")
    reset_settings()
    with pytest.raises(ValidationFailed) as error:
        _upload(acme, PDF, max_bytes=10_000)
    assert "limit of 50 bytes" in _field_message(error)
    with read_session() as session:
        assert session.exec(select(StoredFile)).all() == []


def test_a_type_outside_the_allowed_ones_is_refused_naming_the_sniffed_type(
        acme: Actor) -> None:
    with pytest.raises(ValidationFailed) as error:
        _upload(acme, PDF, name="looks-like.png", allowed_types={"image/png", "image/jpeg"})
    message = _field_message(error)
    assert "application/pdf" in message and "image/jpeg, image/png" in message
    assert _upload(acme, PNG, allowed_types={"image/png"}).content_type == "image/png"


def test_an_empty_file_is_refused(acme: Actor) -> None:
    with pytest.raises(ValidationFailed) as error:
        _upload(acme, b"")
    assert _field_message(error) == "is empty"


def test_a_download_token_fetches_the_bytes_until_it_expires(acme: Actor) -> None:
    stored = _upload(acme, PDF)
    minted = utcnow()
    token = files.download_token(file_id=stored.id, workspace_id=acme.workspace_id, now=minted)
    assert _read(token, now=minted + timedelta(minutes=14)) == PDF
    with pytest.raises(Forbidden, match="expired"):
        _read(token, now=minted + timedelta(minutes=15, seconds=1))


def test_a_tampered_token_is_forbidden(acme: Actor) -> None:
    stored = _upload(acme, PDF)
    token = files.download_token(file_id=stored.id, workspace_id=acme.workspace_id)
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense", ""):
        with pytest.raises(Forbidden, match="not valid"):
            _read(bad)


def test_a_token_naming_another_workspace_does_not_open_the_file(acme: Actor) -> None:
    stored = _upload(acme, PDF)
    globex = _workspace("globex")
    token = files.download_token(file_id=stored.id, workspace_id=globex.workspace_id)
    with pytest.raises(NotFound):
        _read(token)


def test_a_file_whose_bytes_are_gone_is_not_found(acme: Actor) -> None:
    stored = _upload(acme, PDF)
    get_storage().delete(stored.storage_key)
    token = files.download_token(file_id=stored.id, workspace_id=acme.workspace_id)
    with pytest.raises(NotFound):
        _read(token)


def test_the_local_storage_is_the_default_under_the_data_dir(
        sqlite_db: str, tmp_path: Path) -> None:
    storage = get_storage()
    assert isinstance(storage, LocalStorage) and storage.root == (tmp_path / "files").resolve()
    storage.put("ws_1/fil_1", io.BytesIO(b"streamed"))
    assert storage.exists("ws_1/fil_1")
    with storage.open("ws_1/fil_1") as handle:
        assert handle.read() == b"streamed"
    storage.delete("ws_1/fil_1")
    assert not storage.exists("ws_1/fil_1")



def test_the_local_storage_never_leaves_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    storage = LocalStorage(tmp_path / "root")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "ws_1").symlink_to(outside)
    for key in ("../outside/x", "/etc/passwd", "ws_1/x"):
        with pytest.raises(InvalidKey):
            storage.put(key, b"x")
    assert list(outside.iterdir()) == []

@pytest.fixture
def s3(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real S3 API (moto's server) on a loopback port, with a bucket, chosen by settings."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="flowdesk-files")
    monkeypatch.setenv("FILE_STORAGE_URL", "s3://flowdesk-files/uploads/")
    monkeypatch.setenv("FILE_STORAGE_ENDPOINT", endpoint)
    reset_settings()
    yield client
    server.stop()
    reset_settings()


def test_with_the_s3_storage_the_bytes_go_to_the_bucket_and_come_back(
        s3: Any, tmp_path: Path) -> None:
    acme = _workspace("acme")
    assert isinstance(get_storage(), S3Storage)
    stored = _upload(acme, PNG, name="photo.png")
    answer = s3.get_object(Bucket="flowdesk-files", Key=f"uploads/{stored.storage_key}")
    assert answer["Body"].read() == PNG
    assert not (tmp_path / "files").exists()
    token = files.download_token(file_id=stored.id, workspace_id=acme.workspace_id)
    assert _read(token) == PNG


def test_the_s3_storage_answers_exists_and_delete(s3: Any) -> None:
    storage = get_storage()
    storage.put("ws_1/fil_1", io.BytesIO(b"streamed"))
    assert storage.exists("ws_1/fil_1")
    storage.delete("ws_1/fil_1")
    assert not storage.exists("ws_1/fil_1")
    acme = _workspace("acme")
    stored = _upload(acme, PDF)
    storage.delete(stored.storage_key)
    with pytest.raises(NotFound):
        _read(files.download_token(file_id=stored.id, workspace_id=acme.workspace_id))
