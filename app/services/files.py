"""File uploads and signed downloads.

An upload is checked against the global cap (MAX_UPLOAD_BYTES) and the caller's own limits,
its type is sniffed from the bytes, its bytes go to the file storage and its row to the
database. A download is authorised by a signed token (itsdangerous, salt "file-download")
naming the file, its workspace and when it expires; nothing else is needed to fetch it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session

from app.clock import utcnow
from app.db import read_session
from app.engine.fields import FieldSpec, FileLookup, file_ids, is_file_ref
from app.engine.steps.base import FileContent
from app.errors import FieldError, Forbidden, ValidationFailed, not_found
from app.files.names import content_disposition, safe_name
from app.files.sniffing import sniff
from app.files.storage import MissingFile, Storage, get_storage
from app.models import Actor, StoredFile
from app.models.base import new_id
from app.repo import audit
from app.repo import files as files_repo
from app.settings import get_settings

DOWNLOAD_TTL_S = 15 * 60
_SALT = "file-download"

ORPHAN_AFTER = timedelta(days=1)  # an upload nothing referenced by then is removed
_PURGE_BATCH = 500

__all__ = ["DOWNLOAD_TTL_S", "Download", "attach", "content_disposition", "download",
           "download_token", "file_ref", "get_file", "lookup", "purge_orphans", "upload"]


@dataclass(frozen=True)
class Download:
    """A file a token opened: its row and a stream of its bytes (the caller closes it)."""

    file: StoredFile
    stream: BinaryIO


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().secret_key, salt=_SALT)


def _read_limited(data: bytes | BinaryIO, limit: int) -> bytes:
    """The bytes of `data`, reading at most one byte past `limit` from a stream."""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return data.read(limit + 1)


def _refuse(message: str, code: str) -> ValidationFailed:
    return ValidationFailed("The file was refused", errors=[FieldError("file", message, code)])


def _check(content: bytes, sniffed: str, *, limit: int,
           allowed_types: Collection[str] | None) -> None:
    if len(content) > limit:
        raise _refuse(f"is larger than the limit of {limit} bytes", "too_large")
    if not content:
        raise _refuse("is empty", "required")
    major = sniffed.split("/", 1)[0]
    if allowed_types is not None and sniffed not in allowed_types \
            and f"{major}/*" not in allowed_types:
        raise _refuse(f"is {sniffed} (judged from its content); allowed: "
                      f"{', '.join(sorted(allowed_types))}", "type_not_allowed")


def upload(session: Session, *, actor: Actor, name: str | None, data: bytes | BinaryIO,
           max_bytes: int | None = None, allowed_types: Collection[str] | None = None,
           storage: Storage | None = None) -> StoredFile:
    """Store an uploaded file in `actor`'s workspace. Refused (422, field `file`) over the
    global cap or `max_bytes`, when empty, or when its sniffed type is not allowed
    (`allowed_types` may hold wildcards such as image/*)."""
    global_cap = get_settings().max_upload_bytes
    limit = global_cap if max_bytes is None else min(max_bytes, global_cap)
    content = _read_limited(data, limit)
    clean_name = safe_name(name)
    sniffed = sniff(content, clean_name)
    _check(content, sniffed, limit=limit, allowed_types=allowed_types)
    file_id = new_id("fil")
    stored = StoredFile(id=file_id, workspace_id=actor.workspace_id, name=clean_name,
                        size=len(content), content_type=sniffed,
                        sha256=hashlib.sha256(content).hexdigest(),
                        storage_key=f"{actor.workspace_id}/{file_id}", created_by=actor.display)
    backend = storage or get_storage()
    backend.put(stored.storage_key, content)
    session.add(stored)
    audit.record(session, workspace_id=actor.workspace_id, actor=actor, action="file.uploaded",
                 resource_type="file", resource_id=file_id,
                 details={"name": clean_name, "size": stored.size, "content_type": sniffed})
    try:
        session.commit()
    except BaseException:
        session.rollback()
        backend.delete(stored.storage_key)  # no row: the bytes would be unreachable
        raise
    return stored


def file_ref(stored: StoredFile) -> dict[str, Any]:
    """How run input, submissions and templates refer to a file."""
    return {"id": stored.id, "name": stored.name, "size": stored.size,
            "content_type": stored.content_type, "sha256": stored.sha256}


def lookup(session: Session, *, workspace_id: str, file_ids: Sequence[str],
           uploaded_by: str | None = None) -> FileLookup:
    """A FileLookup over the files of `workspace_id` among `file_ids`. `uploaded_by`: only
    files that uploader sent and nothing has referenced yet (an anonymous form's own)."""
    found = files_repo.files_by_id(session, file_ids, workspace_id=workspace_id)

    def find(file_id: str) -> dict[str, Any] | None:
        stored = found.get(file_id)
        if stored is None or (uploaded_by is not None and (
                stored.created_by != uploaded_by or stored.run_id or stored.submission_id)):
            return None
        return file_ref(stored)

    return find


def attach(session: Session, fields: Sequence[FieldSpec], clean: Mapping[str, Any], *,
           run_id: str | None = None, submission_id: str | None = None) -> None:
    """Mark the files that validated data puts in file fields as referenced (no commit)."""
    ids = file_ids(fields, clean)
    files_repo.attach(session, ids, run_id=run_id, submission_id=submission_id)


def _refs_in(value: Any, found: dict[str, dict[str, Any]]) -> None:
    if isinstance(value, dict):
        if is_file_ref(value):
            found.setdefault(str(value["id"]), value)
            return
        for item in value.values():
            _refs_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _refs_in(item, found)


def referenced_files(session: Session, *, workspace_id: str,
                     values: Sequence[Any]) -> list[dict[str, Any]]:
    """The files that `values` (a run's input and outputs, say) refer to and that still
    exist in `workspace_id`, each with a fresh signed download path (for pages)."""
    found: dict[str, dict[str, Any]] = {}
    for value in values:
        _refs_in(value, found)
    rows = files_repo.files_by_id(session, list(found), workspace_id=workspace_id)
    return [{**file_ref(rows[file_id]), "download_path": download_path(file_id, workspace_id)}
            for file_id in found if file_id in rows]


def size_text(size: int) -> str:
    for unit, scale in (("MB", 1_048_576), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def file_rows(session: Session, *, workspace_id: str,
              values: Sequence[Any]) -> list[dict[str, str]]:
    """referenced_files as text rows for a page: name, type, size, download path."""
    return [{"id": f["id"], "name": f["name"], "content_type": f["content_type"],
             "size": size_text(f["size"]), "download_path": f["download_path"]}
            for f in referenced_files(session, workspace_id=workspace_id, values=values)]


def download_path(file_id: str, workspace_id: str) -> str:
    """A signed download link relative to the app (valid DOWNLOAD_TTL_S)."""
    token = download_token(file_id=file_id, workspace_id=workspace_id)
    return f"/api/v1/files/download?token={token}"


def upload_for_field(session: Session, *, actor: Actor, spec: FieldSpec, name: str | None,
                     data: bytes, field_path: str) -> StoredFile:
    """An upload for a file field, within the field's own limits; a refusal names
    `field_path` (the form field, `fields.<name>` of an approval) instead of `file`."""
    try:
        return upload(session, actor=actor, name=name, data=data, max_bytes=spec.max_bytes,
                      allowed_types=spec.accept)
    except ValidationFailed as exc:
        raise ValidationFailed(str(exc), errors=[
            FieldError(field_path, e.message, e.code) for e in exc.errors]) from exc


def purge_orphans(session: Session, *, now: datetime | None = None,
                  storage: Storage | None = None) -> int:
    """Remove uploads that no run or submission referenced within ORPHAN_AFTER (a form left
    half-filled, an API upload never used): their bytes, then their rows."""
    old = list(files_repo.orphans(session, uploaded_before=(now or utcnow()) - ORPHAN_AFTER,
                                  limit=_PURGE_BATCH))
    backend = storage or get_storage()
    for stored in old:
        backend.delete(stored.storage_key)
    files_repo.delete_rows(session, [f.id for f in old])
    session.commit()
    return len(old)


def read_for_step(workspace_id: str, file_id: str) -> FileContent | None:
    """A file's bytes for a step of a run in `workspace_id` (another workspace's: None)."""
    with read_session() as session:
        stored = files_repo.get_file(session, file_id, workspace_id=workspace_id)
    if stored is None:
        return None
    try:
        with get_storage().open(stored.storage_key) as stream:
            data = stream.read()
    except MissingFile:
        return None
    return FileContent(name=stored.name, content_type=stored.content_type, data=data)


def get_file(session: Session, *, workspace_id: str, file_id: str) -> StoredFile:
    stored = files_repo.get_file(session, file_id, workspace_id=workspace_id)
    if stored is None:
        raise not_found("file", file_id)
    return stored


def download_token(*, file_id: str, workspace_id: str, ttl_s: float = DOWNLOAD_TTL_S,
                   now: datetime | None = None) -> str:
    """A token that fetches `file_id` of `workspace_id` until `ttl_s` from `now`."""
    expires = (now or utcnow()) + timedelta(seconds=ttl_s)
    return str(_serializer().dumps({"f": file_id, "w": workspace_id,
                                    "e": int(expires.timestamp())}))


def download(session: Session, *, token: str, now: datetime | None = None,
             storage: Storage | None = None) -> Download:
    """The file a token names. A tampered or expired token: Forbidden; a file that is gone,
    or not in the token's workspace: NotFound."""
    try:
        claims = _serializer().loads(token)
    except BadSignature as exc:
        raise Forbidden("This download link is not valid") from exc
    if not isinstance(claims, dict) or not isinstance(claims.get("e"), int):
        raise Forbidden("This download link is not valid")
    if (now or utcnow()).timestamp() >= claims["e"]:
        raise Forbidden("This download link has expired; ask for a new one",
                        extra={"reason": "expired"})
    file_id = str(claims.get("f"))
    stored = get_file(session, workspace_id=str(claims.get("w")), file_id=file_id)
    try:
        stream = (storage or get_storage()).open(stored.storage_key)
    except MissingFile as exc:
        raise not_found("file", file_id) from exc
    return Download(stored, stream)
