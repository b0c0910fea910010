"""Shared shapes: timestamps, the problem document, list pages and the strict request base."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

from app.clock import iso

# Every timestamp leaves the API as RFC 3339 UTC with milliseconds and a Z.
Timestamp = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "examples": ["2026-04-26T10:00:00.000Z"]}),
]

# Free-form JSON objects (run input, outputs, definitions) keep their own structure.
JsonObject = dict[str, Any]

T = TypeVar("T")


class RequestBody(BaseModel):
    """A request body: unknown properties are refused (422) rather than silently dropped."""

    model_config = ConfigDict(extra="forbid")


class FieldProblem(BaseModel):
    field: str = Field(description="Where the problem is: a body property path, a query "
                                   "parameter or a header name.", examples=["title"])
    message: str = Field(examples=["is required"])
    code: str = Field(description="Machine-readable reason, such as `required` or `invalid`.",
                      examples=["required"])


class Problem(BaseModel):
    """An RFC 9457 problem document; every 4xx and 5xx answer is one."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{
            "type": "urn:flowdesk:problem:not-found", "title": "Not found", "status": 404,
            "detail": "workflow 'wf_01jd2y7k3m8q9r4s5t6v7w8x9y' was not found",
            "code": "NOT_FOUND", "errors": [], "request_id": "req_01jd2y7k3m8q9r4s5t6v7w8x9y"}]},
    )

    type: str = Field(description="A URI naming the kind of problem.",
                      examples=["urn:flowdesk:problem:validation-error"])
    title: str = Field(examples=["Validation failed"])
    status: int = Field(ge=400, le=599, examples=[422])
    detail: str = Field(examples=["The request is invalid"])
    code: str = Field(description="One of UNAUTHORIZED, FORBIDDEN, NOT_FOUND, BAD_REQUEST, "
                                  "VALIDATION_ERROR, CONFLICT, PAYLOAD_TOO_LARGE, "
                                  "METHOD_NOT_ALLOWED, RATE_LIMITED, CONCURRENCY_LIMITED, "
                                  "INTERNAL_ERROR, UNAVAILABLE.", examples=["VALIDATION_ERROR"])
    errors: list[FieldProblem] = Field(default_factory=list,
                                       description="One entry per field problem.")
    request_id: str | None = Field(default=None, description="Also sent as X-Request-Id.",
                                   examples=["req_01jd2y7k3m8q9r4s5t6v7w8x9y"])


# Seed 001's members: absent (not null) when they do not apply.
_OMITTED_WHEN_NONE = ("next_page_token", "page", "per_page")


class Page(BaseModel, Generic[T]):
    """One page of a list, newest first; pass `next_cursor` back as `?cursor=` (or
    `next_page_token` as `?next_page_token=`) for the next."""

    data: list[T]
    next_cursor: str | None = Field(description="Opaque; null on the last page.")
    has_more: bool
    next_page_token: str | None = Field(None, description=(
        "The same token as `next_cursor` (seed 001's name); absent on the last page."))
    page: int | None = Field(None, description="The page number, when asked for by `page`.")
    per_page: int | None = Field(None, description="Items per page, when asked for by `page`.")

    # No return annotation: with one, the response schema would be a bare object.
    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        body = handler(self)
        for name in _OMITTED_WHEN_NONE:
            if isinstance(body, dict) and body.get(name) is None:
                body.pop(name, None)
        return body
