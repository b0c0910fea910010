"""Domain errors: the one exception root the API maps to problem+json and pages show as text.

    DomainError
    ├── NotFound            (404: missing, or in another workspace)
    ├── ValidationFailed    (422: errors[] names each field)
    ├── BadRequest          (400)
    ├── Unauthorized        (401)
    ├── Forbidden           (403)
    ├── Conflict            (409: stale version, wrong state, in flight)
    ├── RateLimited         (429)
    │   └── ConcurrencyLimited
    └── Unavailable         (503: the database is unreachable)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}


@dataclass
class DomainError(Exception):
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    status = 500
    code = "INTERNAL_ERROR"
    title = "Internal error"

    def __post_init__(self) -> None:
        Exception.__init__(self, self.detail)

    def __str__(self) -> str:
        if self.errors:
            listed = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
            return f"{self.detail} ({listed})" if self.detail else listed
        return self.detail


class NotFound(DomainError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class ValidationFailed(DomainError):
    status = 422
    code = "VALIDATION_ERROR"
    title = "Validation failed"


class BadRequest(DomainError):
    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"


class Unauthorized(DomainError):
    status = 401
    code = "UNAUTHORIZED"
    title = "Unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "FORBIDDEN"
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    code = "CONFLICT"
    title = "Conflict"


class RateLimited(DomainError):
    status = 429
    code = "RATE_LIMITED"
    title = "Too many requests"


class ConcurrencyLimited(RateLimited):
    code = "CONCURRENCY_LIMITED"
    title = "Too many concurrent runs"


class Unavailable(DomainError):
    status = 503
    code = "UNAVAILABLE"
    title = "Service unavailable"


def not_found(kind: str, ident: str) -> NotFound:
    return NotFound(f"{kind} '{ident}' was not found")
