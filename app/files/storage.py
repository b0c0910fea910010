"""Where uploaded bytes live: one small interface, a local-disk backend (the default, under
<DATA_DIR>/files/) and an S3-compatible one (FILE_STORAGE_URL=s3://bucket/prefix).

Keys are relative slash-separated paths of plain segments ([A-Za-z0-9._-], no '.' or '..'):
a key can never name a place outside the backend's root or prefix.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlparse

from app.settings import Settings, get_settings

CHUNK_BYTES = 64 * 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


class InvalidKey(ValueError):
    """A storage key that could escape the storage root."""


class MissingFile(LookupError):
    """No bytes are stored under the key."""


def check_key(key: str) -> str:
    """`key` when every segment is plain; else InvalidKey (traversal, absolute, empty)."""
    parts = key.split("/") if isinstance(key, str) else []
    if not parts or len(key) > 300 or not all(_SEGMENT.match(part) for part in parts):
        raise InvalidKey(f"not a valid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes | BinaryIO) -> None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class LocalStorage:
    """Files on disk under `root`; a put is atomic (written aside, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # a symlink planted under the root
            raise InvalidKey(f"not a valid storage key: {key!r}")
        return path

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                if isinstance(data, bytes | bytearray):
                    handle.write(data)
                else:
                    shutil.copyfileobj(data, handle, CHUNK_BYTES)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise MissingFile(key) from exc

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


class S3Storage:
    """Objects in `bucket` under `prefix`, through a boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = "/".join(part for part in prefix.split("/") if part)

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes | BinaryIO) -> None:
        if isinstance(data, bytes | bytearray):
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=bytes(data))
        else:
            self.client.upload_fileobj(data, self.bucket, self._name(key))

    def open(self, key: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self.client.exceptions.NoSuchKey as exc:
            raise MissingFile(key) from exc
        body: BinaryIO = answer["Body"]
        return body

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


@functools.cache
def _s3_storage(url: str, endpoint: str) -> S3Storage:
    import boto3

    parsed = urlparse(url)
    # boto3 takes the credentials and region from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
    # AWS_DEFAULT_REGION (or its other usual sources): they are its settings, not ours.
    client = boto3.client("s3", endpoint_url=endpoint or None)
    return S3Storage(client, parsed.netloc, parsed.path)


def storage_for(settings: Settings) -> Storage:
    """The backend the settings choose: s3://bucket/prefix, else the local disk."""
    url = settings.file_storage_url
    if url:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"FILE_STORAGE_URL must be s3://bucket/prefix, not {url!r}")
        return _s3_storage(url, settings.file_storage_endpoint)
    return LocalStorage(settings.data_dir / "files")


def get_storage() -> Storage:
    return storage_for(get_settings())
