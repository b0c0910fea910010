"""Input field specs and the validation of data submitted against them (run input, forms)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.errors import FieldError

FieldType = Literal[
    "text", "email", "number", "textarea", "select", "checkbox", "date", "url", "integer"
]

# Deliberately pragmatic: one @, a dotted domain of valid labels, no spaces. RFC 5322 in full
# accepts addresses no mail server will deliver to.
EMAIL_PATTERN = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_EMAIL_LENGTH = 254
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TRUE_WORDS = frozenset({"true", "on", "yes", "1"})
_FALSE_WORDS = frozenset({"false", "off", "no", "0"})


class FieldSpec(BaseModel):
    """One input a trigger or form must (or may) supply."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: FieldType = "text"
    required: bool = False
    label: str | None = None
    options: list[str] | None = None
    help: str | None = None
    placeholder: str | None = None
    default: Any = None

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("field name must not be blank")
        return name

    @model_validator(mode="after")
    def _select_has_options(self) -> FieldSpec:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs a non-empty 'options' list")
        return self


def is_email(text: str) -> bool:
    """True when text looks like a deliverable email address."""
    return len(text) <= MAX_EMAIL_LENGTH and bool(EMAIL_PATTERN.match(text))


class _Invalid(ValueError):
    """A submitted value that cannot be cleaned; the message is shown to the user."""


def _clean_text(value: Any, spec: FieldSpec) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid("must be text")
    text = str(value)
    # Multi-line text keeps its indentation; single-line text loses stray spaces.
    return text if spec.type == "textarea" else text.strip()


def _clean_email(value: Any, spec: FieldSpec) -> str:
    if not isinstance(value, str) or not is_email(value.strip()):
        raise _Invalid("must be a valid email address")
    return value.strip()


def _clean_number(value: Any, spec: FieldSpec) -> int | float:
    if isinstance(value, str):
        text = value.strip()
        if _INTEGER.match(text):
            return int(text)
        try:
            value = float(text)
        except ValueError:
            raise _Invalid("must be a number") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid("must be a finite number")
    return value


def _clean_integer(value: Any, spec: FieldSpec) -> int:
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid("must be a whole number")
    return value


def _clean_checkbox(value: Any, spec: FieldSpec) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise _Invalid("must be true or false")


def _clean_date(value: Any, spec: FieldSpec) -> str:
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise _Invalid("must be a date as YYYY-MM-DD")


def _clean_url(value: Any, spec: FieldSpec) -> str:
    text = value.strip() if isinstance(value, str) else ""
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid("must be an http:// or https:// URL")
    if any(char.isspace() for char in text):
        raise _Invalid("must not contain spaces")
    return text


def _clean_select(value: Any, spec: FieldSpec) -> str:
    # Clients often send numbers for numeric options ("1", "2", "3").
    choice = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if choice not in (spec.options or []):
        raise _Invalid(f"must be one of: {', '.join(spec.options or [])}")
    return choice


_CLEANERS: dict[str, Callable[[Any, FieldSpec], Any]] = {
    "text": _clean_text,
    "textarea": _clean_text,
    "email": _clean_email,
    "number": _clean_number,
    "integer": _clean_integer,
    "checkbox": _clean_checkbox,
    "date": _clean_date,
    "url": _clean_url,
    "select": _clean_select,
}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_data(
    fields: Sequence[FieldSpec], data: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean submitted data against field specs; return the values and every problem found."""
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in fields:
        value = data.get(spec.name)
        required = FieldError(spec.name, f"{spec.label or spec.name} is required", "required")
        if _is_missing(value):
            if spec.required:
                errors.append(required)
            elif spec.default is not None:
                cleaned[spec.name] = spec.default
            continue
        try:
            value = _CLEANERS[spec.type](value, spec)
        except _Invalid as exc:
            errors.append(FieldError(spec.name, str(exc), "invalid"))
            continue
        if spec.required and value is False:
            # A required checkbox means "must be ticked", as in HTML.
            errors.append(required)
            continue
        cleaned[spec.name] = value
    known = {spec.name for spec in fields}
    errors.extend(
        FieldError(str(key), f"unknown field '{key}'", "unknown_field")
        for key in data
        if key not in known
    )
    return cleaned, errors
