"""Safe file names: what a client calls a file, made harmless to store and to send back."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

MAX_NAME_LENGTH = 255
FALLBACK_NAME = "file"


def safe_name(raw: str | None) -> str:
    """The last path segment of `raw`, without control characters, NFC, at most 255
    characters (the extension kept); 'file' when nothing is left."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    if not name:
        return FALLBACK_NAME
    if len(name) > MAX_NAME_LENGTH:
        _stem, dot, ext = name.rpartition(".")
        keep = f"{dot}{ext}" if dot and len(ext) <= 16 else ""
        name = name[:MAX_NAME_LENGTH - len(keep)] + keep
    return name


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 6266 / 5987 UTF-8 name."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    ascii_name = ascii_name.replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
