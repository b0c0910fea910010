"""The one pagination helper: `limit` + an opaque keyset `cursor` → `{data, next_cursor, has_more}`.

A cursor is base64url of the JSON `[created_at, id]` of the last row of the previous page, so
pages stay stable while rows are added (lists are newest first, ties broken by id). Seed 001's
spellings are taken too: `next_page_token` for the cursor (in the answer and back as a
parameter), and offset pages, `page` (1-indexed) and `per_page` (`limit`'s other name).
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
# Deeper offsets cost a scan of every row skipped: a cursor reaches them instead.
MAX_PAGE = 10_000

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
    page: int | None = None

    @property
    def fetch(self) -> int:
        """Rows to ask the repository for: one more than shown tells whether more exist."""
        return self.limit + 1

    @property
    def offset(self) -> int:
        """Rows to skip (offset pages); 0 when paging by cursor."""
        return (self.page - 1) * self.limit if self.page else 0


def _conflict(name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{name} {message}", errors=[FieldError(name, message)])


def paging_of(*, limit: int | None = None, per_page: int | None = None,
              cursor: str | None = None, next_page_token: str | None = None,
              page: int | None = None) -> PageRequest:
    """A page request from every spelling a client may use; contradictions are 422."""
    if per_page is not None and limit not in (None, DEFAULT_LIMIT, per_page):
        raise _conflict("per_page", "is another name for limit; send one of them")
    if cursor and next_page_token and cursor != next_page_token:
        raise _conflict("next_page_token", "is another name for cursor; send one of them")
    token = cursor or next_page_token
    if page is not None and token:
        raise _conflict("page", "cannot be combined with a cursor (next_page_token)")
    size = per_page if per_page is not None else limit
    return PageRequest(limit=size if size is not None else DEFAULT_LIMIT,
                       before=decode_cursor(token), page=page)


PageNumber = Annotated[int | None, Query(
    ge=1, le=MAX_PAGE, description="Offset pages (seed 001): the page number, from 1; not "
    "with a cursor.")]
PerPage = Annotated[int | None, Query(
    ge=1, le=MAX_LIMIT, description="Items per page (default 25): another name for `limit`.")]
Token = Annotated[str | None, Query(
    max_length=MAX_CURSOR_LENGTH,
    description="`next_page_token` of the previous page (the same as `cursor`).")]


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Cursor = Annotated[str | None, Query(
    max_length=MAX_CURSOR_LENGTH,
    description="`next_cursor` of the previous page; omit for the first page.")]


async def page_request(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                       per_page: PerPage = None, next_page_token: Token = None) -> PageRequest:
    return paging_of(limit=limit, per_page=per_page, cursor=cursor,
                     next_page_token=next_page_token)


async def offset_page_request(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
                              page: PageNumber = None, per_page: PerPage = None,
                              next_page_token: Token = None) -> PageRequest:
    return paging_of(limit=limit, per_page=per_page, cursor=cursor,
                     next_page_token=next_page_token, page=page)


# Cursor pages; OffsetPaging also takes `page` (lists whose queries take an offset).
Paging = Annotated[PageRequest, Depends(page_request)]
OffsetPaging = Annotated[PageRequest, Depends(offset_page_request)]


def page_of(rows: Sequence[Row], request: PageRequest, shape: Callable[[Row], Item],
            key: Callable[[Row], tuple[datetime, str]] | None = None) -> dict[str, Any]:
    """The page body for rows fetched with `request.fetch` as the repository's limit (and
    `request.offset` as its offset)."""
    shown = list(rows[: request.limit])
    has_more = len(rows) > request.limit
    next_cursor = None
    if has_more and shown:
        last = shown[-1]
        at, ident = key(last) if key else (last.created_at, last.id)  # type: ignore[attr-defined]
        next_cursor = encode_cursor(at, ident)
    body: dict[str, Any] = {"data": [shape(row) for row in shown], "next_cursor": next_cursor,
                            "has_more": has_more, "next_page_token": next_cursor}
    if request.page is not None:
        body.update(page=request.page, per_page=request.limit)
    return body


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
