"""/api/v1/files: upload (multipart), metadata with a fresh download link, and the download
itself, authorised by the link's signed token alone (no API key)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, BinaryIO

from fastapi import Depends, File, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from app.api.deps import ReadSession, WriteSession, require
from app.api.openapi import problems
from app.api.routing import api_router
from app.api.schemas.files import FilePublic
from app.models import Actor, StoredFile
from app.services import files

router = api_router(prefix="/api/v1/files", tags=["files"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Writer = Annotated[Actor, Depends(require("runs:write"))]
CHUNK_BYTES = 64 * 1024


def _public(stored: StoredFile, request: Request) -> FilePublic:
    token = files.download_token(file_id=stored.id, workspace_id=stored.workspace_id)
    url = request.url_for("download_file").include_query_params(token=token)
    return FilePublic(id=stored.id, name=stored.name, size=stored.size,
                      content_type=stored.content_type, sha256=stored.sha256,
                      created_at=stored.created_at, download_url=str(url))


@router.post("", name="upload_file", status_code=status.HTTP_201_CREATED,
             response_model=FilePublic, responses=problems(422),
             summary="Upload a file (multipart/form-data, field `file`)",
             openapi_extra={"x-response-headers": {"201": ["Location"]}})
def upload_file(file: Annotated[UploadFile, File(description="The file's bytes")],
                caller: Writer, session: WriteSession, request: Request,
                response: Response) -> FilePublic:
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
