"""What a file is, from its first bytes: the client's Content-Type is never trusted."""

from __future__ import annotations

import json

OCTET_STREAM = "application/octet-stream"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
TEXT = "text/plain"
CSV = "text/csv"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or an empty archive


def _zip_kind(data: bytes) -> str:
    """Office Open XML documents are zip archives whose member names say what they are."""
    if b"word/" in data:
        return DOCX
    if b"xl/" in data:
        return XLSX
    return ZIP


def _text_kind(data: bytes, name: str) -> str | None:
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(stripped)
        except ValueError:
            pass
        else:
            return JSON
    # A comma-separated shape is ambiguous with prose: only a .csv name makes it CSV.
    return CSV if name.lower().endswith(".csv") else TEXT


def sniff(data: bytes, name: str = "") -> str:
    """The content type of `data` (the whole file): images, PDF, zip and Office documents,
    JSON, UTF-8 text (CSV when named .csv), else application/octet-stream."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data)
    if not data:
        return OCTET_STREAM
    return _text_kind(data, name) or OCTET_STREAM
