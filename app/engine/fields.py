"""Input field specs and the validation of data submitted against them (run input, forms)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.engine.templating import (
    TemplateFailure,
    condition_problem,
    evaluate_condition,
    referenced_roots,
)
from app.errors import FieldError

FieldType = Literal[
    "text", "email", "number", "textarea", "select", "checkbox", "date", "url", "integer",
    "file",
]
# A file field's value once cleaned: what the run input, timeline and templates see.
FILE_REF_KEYS = ("id", "name", "size", "content_type", "sha256")
FileLookup = Callable[[str], Mapping[str, Any] | None]  # file id → its FILE_REF_KEYS, or None
_ACCEPT = re.compile(r"^[a-z]+/(?:\*|[a-z0-9][a-z0-9.+-]*)$")

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
    # shown (and validated, and stored) only when this expression on earlier fields is true
    show_if: str | None = Field(default=None, max_length=500)
    page: int | None = Field(default=None, ge=1, le=50)  # a form's page, 1 = the first
    # a file field's own limits (the global MAX_UPLOAD_BYTES still applies)
    max_bytes: int | None = Field(default=None, ge=1)
    accept: list[str] | None = Field(default=None, max_length=50)

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
        if self.type != "file" and (self.max_bytes is not None or self.accept is not None):
            raise ValueError("'max_bytes' and 'accept' apply to file fields only")
        for pattern in self.accept or []:
            if not _ACCEPT.match(pattern):
                raise ValueError(f"accept: '{pattern}' is not a content type such as "
                                 "application/pdf or image/*")
        if self.show_if is not None and (problem := condition_problem(self.show_if)):
            raise ValueError(f"show_if: {problem}")
        return self

    def accepts(self, content_type: str) -> bool:
        """True when a file of `content_type` may go in this (file) field."""
        if not self.accept:
            return True
        major = content_type.split("/", 1)[0]
        return any(p == content_type or p == f"{major}/*" for p in self.accept)


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


def file_id_of(value: Any) -> str | None:
    """The file id a value names: an id (fil_…) or a reference object holding one."""
    file_id = value.get("id") if isinstance(value, dict) else value
    return file_id if isinstance(file_id, str) and file_id.startswith("fil_") else None


def is_file_ref(value: Any) -> bool:
    """True for a cleaned file field's value (what run input and submissions store)."""
    return isinstance(value, dict) and file_id_of(value) is not None and "sha256" in value


def _file_ref(value: Any) -> str:
    file_id = file_id_of(value)
    if file_id is None:
        raise _Invalid("must be the id of an uploaded file (fil_…)")
    return file_id


def _clean_file(value: Any, spec: FieldSpec, files: FileLookup | None) -> dict[str, Any]:
    """A file field takes an uploaded file's id (or its reference object). With `files` the id
    is looked up (another workspace's or an unknown file: refused); without it, only a
    reference the engine itself wrote earlier (a sub-workflow's, a re-run's input) passes."""
    file_id = _file_ref(value)
    if files is None:
        if isinstance(value, dict) and all(k in value for k in FILE_REF_KEYS):
            return {k: value[k] for k in FILE_REF_KEYS}
        raise _Invalid("files cannot be attached here")
    found = files(file_id)
    if found is None:
        raise _Invalid(f"file '{file_id}' was not found (upload it first)")
    ref = {k: found[k] for k in FILE_REF_KEYS}
    if spec.max_bytes is not None and ref["size"] > spec.max_bytes:
        raise _Invalid(f"is larger than this field's limit of {spec.max_bytes} bytes")
    if not spec.accepts(ref["content_type"]):
        raise _Invalid(f"is {ref['content_type']}; this field takes "
                       f"{', '.join(spec.accept or [])}")
    return ref


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


def _shown(spec: FieldSpec, so_far: Mapping[str, Any]) -> bool:
    """Whether `spec` is shown given the earlier fields' values. A condition that fails to
    evaluate (comparing an empty field with a number, say) hides the field."""
    if spec.show_if is None:
        return True
    context = {**{k: v for k, v in so_far.items() if k.isidentifier()}, "values": dict(so_far)}
    try:
        return evaluate_condition(spec.show_if, context)
    except TemplateFailure:
        return False


def _clean_one(spec: FieldSpec, value: Any, files: FileLookup | None) -> Any:
    if spec.type == "file":
        return _clean_file(value, spec, files)
    return _CLEANERS[spec.type](value, spec)


def visible_fields(fields: Sequence[FieldSpec], data: Mapping[str, Any]) -> list[str]:
    """The names of the fields shown for `data` (what a form page displays as it is typed):
    each `show_if` sees the earlier shown fields' values, cleaned where they can be."""
    so_far: dict[str, Any] = {}
    shown: list[str] = []
    for spec in fields:
        so_far[spec.name] = None
        if not _shown(spec, so_far):
            continue
        shown.append(spec.name)
        value = data.get(spec.name)
        if not _is_missing(value) and spec.type != "file":
            try:
                so_far[spec.name] = _CLEANERS[spec.type](value, spec)
            except _Invalid:
                pass
        elif not _is_missing(value):
            so_far[spec.name] = value
    return shown


def validate_data(
    fields: Sequence[FieldSpec], data: Mapping[str, Any], *, files: FileLookup | None = None
) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean submitted data against field specs; return the values and every problem found.
    A field whose `show_if` is false is neither required nor stored (a value sent for it is
    dropped: the page may have hidden it after it was typed). `files` looks up file ids."""
    cleaned: dict[str, Any] = {}
    so_far: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in fields:
        so_far[spec.name] = None
        if not _shown(spec, so_far):
            continue
        value = data.get(spec.name)
        required = FieldError(spec.name, f"{spec.label or spec.name} is required", "required")
        if _is_missing(value):
            if spec.required:
                errors.append(required)
            elif spec.default is not None:
                cleaned[spec.name] = so_far[spec.name] = spec.default
            continue
        try:
            value = _clean_one(spec, value, files)
        except _Invalid as exc:
            errors.append(FieldError(spec.name, str(exc), "invalid"))
            continue
        if spec.required and value is False:
            # A required checkbox means "must be ticked", as in HTML.
            errors.append(required)
            continue
        cleaned[spec.name] = so_far[spec.name] = value
    known = {spec.name for spec in fields}
    errors.extend(
        FieldError(str(key), f"unknown field '{key}'", "unknown_field")
        for key in data
        if key not in known
    )
    return cleaned, errors


def file_ids(fields: Sequence[FieldSpec], data: Mapping[str, Any]) -> list[str]:
    """The file ids `data` puts in file fields (to look them up before validating)."""
    found = []
    for spec in fields:
        value = data.get(spec.name)
        if spec.type == "file" and not _is_missing(value):
            try:
                found.append(_file_ref(value))
            except _Invalid:
                pass
    return found


def field_list_problems(fields: Sequence[FieldSpec]) -> list[tuple[int, str, str]]:
    """(index, property, message) for a list of fields: duplicate names, and a `show_if`
    that reads a field that does not come before it."""
    problems: list[tuple[int, str, str]] = []
    seen: dict[str, str] = {}
    for index, spec in enumerate(fields):
        if spec.name.casefold() in seen:
            problems.append((index, "name", f"duplicate field name '{spec.name}'"))
        if spec.show_if is not None:
            earlier = set(seen.values()) | {"values"}
            for name in sorted(referenced_roots("{{ " + spec.show_if + " }}") - earlier):
                problems.append((index, "show_if", f"'{name}' is not an earlier field"))
        seen[spec.name.casefold()] = spec.name
    return problems
