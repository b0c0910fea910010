"""/api/v1/files: upload (multipart), metadata with a fresh download link, and the download
itself, authorised by the link's signed token alone (no API key)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from app.api.deps import ReadSession, WriteSession, require
from app.api.openapi import problems
from app.api.routing import api_router
from app.api.schemas.files import FilePublic
from app.errors import FieldError, ValidationFailed
from app.models import Actor, StoredFile
from app.services import files

router = api_router(prefix="/api/v1/files", tags=["files"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Writer = Annotated[Actor, Depends(require("runs:write"))]
CHUNK_BYTES = 64 * 1024
# Written out rather than derived from a File() parameter: any bytes are a valid file, so the
# part has no JSON type a contract fuzzer could "violate" (it sent an object and expected 422).
UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "properties": {"file": {
        "description": "The file's bytes (its type is judged from them, not from the part's "
                       "Content-Type)", "contentMediaType": "application/octet-stream"}}},
    "encoding": {"file": {"contentType": "application/octet-stream"}}}}}


async def _uploaded(request: Request) -> UploadFile:
    """The multipart part named `file`; 422 naming `file` when there is none."""
    form = await request.form(max_files=1, max_fields=20)
    part = form.get("file")
    if not isinstance(part, UploadFile):
        raise ValidationFailed("The upload has no file",
                               errors=[FieldError("file", "is required (a multipart/form-data "
                                                          "part named file)", "required")])
    return part


def _public(stored: StoredFile, request: Request) -> FilePublic:
    # Not request.url_for: on the running app the API shares a router with routes (the
    # frontend's, /mcp) that cannot build paths, and url_for would fail on them.
    url = str(request.base_url).rstrip("/") + files.download_path(stored.id,
                                                                  stored.workspace_id)
    return FilePublic(id=stored.id, name=stored.name, size=stored.size,
                      content_type=stored.content_type, sha256=stored.sha256,
                      created_at=stored.created_at, download_url=str(url))


@router.post("", name="upload_file", status_code=status.HTTP_201_CREATED,
             response_model=FilePublic,
             responses={**problems(422), 201: {"links": {"GetFile": {
                 "operationId": "get_file", "parameters": {"file_id": "$response.body#/id"}}}}},
             summary="Upload a file (multipart/form-data, field `file`)",
             openapi_extra={"x-response-headers": {"201": ["Location"]},
                            "requestBody": UPLOAD_BODY})
def upload_file(caller: Writer, file: Annotated[UploadFile, Depends(_uploaded)],
                session: WriteSession, request: Request, response: Response) -> FilePublic:
    stored = files.upload(session, actor=caller, name=file.filename, data=file.file)
    response.headers["Location"] = f"{router.prefix}/{stored.id}"
    return _public(stored, request)


@router.get("/download", name="download_file", response_class=StreamingResponse,
            responses={200: {"description": "The file's bytes, as its sniffed type",
                             "content": {"application/octet-stream": {}}},
                       **problems(403, 404)},
            summary="Download a file with the token of its download link (no API key)")
def download_file(session: ReadSession,
                  token: Annotated[str, Query(min_length=1, max_length=2000)]
                  ) -> StreamingResponse:
    opened = files.download(session, token=token)
    return StreamingResponse(
        _chunks(opened.stream), media_type=opened.file.content_type,
        headers={"Content-Disposition": files.content_disposition(opened.file.name),
                 "Content-Length": str(opened.file.size),
                 "X-Content-Type-Options": "nosniff",
                 "Cache-Control": "private, no-store"})


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk
    finally:
        stream.close()


@router.get("/{file_id}", name="get_file", response_model=FilePublic, responses=problems(404),
            summary="Get a file's metadata and a fresh download link")
def get_file(file_id: str, caller: Reader, session: ReadSession, request: Request) -> FilePublic:
    stored = files.get_file(session, workspace_id=caller.workspace_id, file_id=file_id)
    return _public(stored, request)
