"""The one pagination helper: `limit` + an opaque keyset `cursor` → `{data, next_cursor, has_more}`.

A cursor is base64url of the JSON `[created_at, id]` of the last row of the previous page, so
pages stay stable while rows are added (lists are newest first, ties broken by id).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query
from pydantic import BeforeValidator

from app.clock import as_utc
from app.errors import FieldError, ValidationFailed

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 512

Row = TypeVar("Row")
Item = TypeVar("Item")


def encode_cursor(created_at: datetime, ident: str) -> str:
    raw = json.dumps([as_utc(created_at).isoformat(), ident], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is invalid", errors=[FieldError(
        "cursor", "is not a cursor returned by this list; start again without it")])


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, ident = json.loads(raw)
        if not isinstance(at, str) or not isinstance(ident, str) or not ident:
            raise ValueError("wrong shape")
        return as_utc(datetime.fromisoformat(at)), ident
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        raise _bad_cursor() from None


@dataclass(frozen=True)
class PageRequest:
    limit: int
    before: tuple[datetime, str] | None

    @property
    def fetch(self) -> int:
        """Rows to ask the repository for: one more than shown tells whether more exist."""
        return self.limit + 1


async def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
    = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; omit for the first page.")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, before=decode_cursor(cursor))


Paging = Annotated[PageRequest, Depends(page_request)]


def page_of(rows: Sequence[Row], request: PageRequest, shape: Callable[[Row], Item],
            key: Callable[[Row], tuple[datetime, str]] | None = None) -> dict[str, Any]:
    """The page body for rows fetched with `request.fetch` as the repository's limit."""
    shown = list(rows[: request.limit])
    has_more = len(rows) > request.limit
    next_cursor = None
    if has_more and shown:
        last = shown[-1]
        at, ident = key(last) if key else (last.created_at, last.id)  # type: ignore[attr-defined]
        next_cursor = encode_cursor(at, ident)
    return {"data": [shape(row) for row in shown], "next_cursor": next_cursor,
            "has_more": has_more}


@dataclass(frozen=True)
class CreatedRange:
    after: datetime | None
    before: datetime | None


def _utc(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return as_utc(value)
    except (OverflowError, ValueError):
        raise ValidationFailed(f"{name} is out of range", errors=[FieldError(
            name, "is out of the supported date range")]) from None


# RFC 3339 exactly (seconds and an offset or Z), not every form a datetime parser accepts
# (bare dates, Unix numbers): what the schema promises is what the API takes.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str) and not RFC3339.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time such as 2026-04-01T00:00:00Z")
    return value


Rfc3339 = Annotated[datetime, BeforeValidator(_rfc3339)]


async def created_range(
    created_after: Annotated[Rfc3339 | None, Query(
        description="Only items created at or after this time (RFC 3339).",
        examples=["2026-04-01T00:00:00Z"])] = None,
    created_before: Annotated[Rfc3339 | None, Query(
        description="Only items created before this time.",
        examples=["2026-05-01T00:00:00Z"])] = None,
) -> CreatedRange:
    return CreatedRange(after=_utc("created_after", created_after),
                        before=_utc("created_before", created_before))


Created = Annotated[CreatedRange, Depends(created_range)]
