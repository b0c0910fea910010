"""Input fields as JSON Schema, so an agent knows what a run's `input` must hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.engine.fields import FieldSpec

_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "textarea": {"type": "string"},
    "email": {"type": "string", "format": "email"},
    "number": {"type": "number"},
    "integer": {"type": "integer"},
    "checkbox": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "url": {"type": "string", "format": "uri"},
    "file": {"type": "string", "description": "The id of an uploaded file (POST /api/v1/files)"},
}


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    """One field's schema. A type this table does not know yet admits any value: the run's
    own validation still answers for it."""
    schema: dict[str, Any] = dict(_TYPES.get(spec.type, {}))
    if spec.type == "select":
        schema = {"type": "string", "enum": list(spec.options or [])}
    schema["title"] = spec.label or spec.name
    if spec.help:
        schema["description"] = spec.help
    if spec.default is not None:
        schema["default"] = spec.default
    if spec.type == "checkbox" and spec.required:
        schema["const"] = True  # a required checkbox must be ticked, as in HTML
    return schema


def fields_schema(fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """An object schema with a property per field; unknown names are refused, as the run's
    validation refuses them."""
    return {
        "type": "object",
        "properties": {spec.name: field_schema(spec) for spec in fields},
        "required": [spec.name for spec in fields if spec.required],
        "additionalProperties": False,
    }
