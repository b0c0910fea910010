"""The OpenAPI document as a Postman v2.1 collection and environment (pure: dicts in, dicts out).

One folder per tag (in the document's tag order), one request per operation, named by its
summary. Bodies are examples built from the request schema (its `examples`, `example`,
`default`, else a placeholder of the right type for a required member). The collection
authenticates with `Bearer {{apiKey}}` and a pre-request script gives every write a fresh
Idempotency-Key, so that sending a request twice from Postman starts two things, as a person
clicking "Send" twice expects.
"""

from __future__ import annotations

import json
import re
from typing import Any

COLLECTION_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
COLLECTION_NAME = "Flowdesk API"
ENVIRONMENT_NAME = "Flowdesk"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# A schema that refers to itself (a tree of steps) would recurse for ever; past this depth
# the example stops with an empty value of the schema's type.
MAX_EXAMPLE_DEPTH = 8
IDEMPOTENCY_SCRIPT = [
    f"if ({json.dumps(list(WRITE_METHODS))}.includes(pm.request.method)) {{",
    "    pm.request.headers.upsert({key: 'Idempotency-Key',",
    "                               value: pm.variables.replaceIn('{{$guid}}')});",
    "}",
]
PLACEHOLDERS: dict[str, Any] = {"string": "string", "integer": 0, "number": 0,
                                "boolean": False, "array": [], "object": {}, "null": None}
FORMAT_PLACEHOLDERS = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01",
                       "email": "jane@acme.com", "uri": "https://example.com",
                       "uuid": "6f1c1f9e-2d1a-4a5e-9a8f-2b1f7f6f2a10"}


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node` with its `$ref` (a local `#/…` pointer) followed, repeatedly."""
    seen: set[str] = set()
    while "$ref" in node and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _given(schema: dict[str, Any]) -> tuple[bool, Any]:
    """The value the schema itself offers (example, first of examples, default), if any."""
    if "example" in schema:
        return True, schema["example"]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return True, schema["examples"][0]
    if "default" in schema:
        return True, schema["default"]
    if "const" in schema:
        return True, schema["const"]
    if schema.get("enum"):
        return True, schema["enum"][0]
    return False, None


def example_of(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> Any:
    """An example value for `schema`: what it offers, else one built from its members."""
    schema = _resolve(spec, schema)
    found, value = _given(schema)
    if found:
        return value
    for union in ("anyOf", "oneOf"):
        if union in schema:
            branches = [_resolve(spec, b) for b in schema[union]]
            usable = [b for b in branches if b.get("type") != "null"] or branches
            return example_of(spec, usable[0], depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part_example = example_of(spec, part, depth + 1)
            if isinstance(part_example, dict):
                merged.update(part_example)
        return merged
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if depth >= MAX_EXAMPLE_DEPTH:
        return PLACEHOLDERS.get(kind)
    if kind == "object":
        return _object_example(spec, schema, depth)
    if kind == "array":
        items = schema.get("items")
        return [example_of(spec, items, depth + 1)] if isinstance(items, dict) else []
    if kind == "string" and schema.get("format") in FORMAT_PLACEHOLDERS:
        return FORMAT_PLACEHOLDERS[schema["format"]]
    if kind in ("integer", "number") and "minimum" in schema:
        return int(schema["minimum"]) if kind == "integer" else schema["minimum"]
    return PLACEHOLDERS.get(kind)


def _object_example(spec: dict[str, Any], schema: dict[str, Any], depth: int) -> dict[str, Any]:
    """Required members always; optional ones only where the schema offers a value."""
    required = set(schema.get("required", []))
    example: dict[str, Any] = {}
    for name, member in schema.get("properties", {}).items():
        if name in required or _offers_value(spec, member):
            example[name] = example_of(spec, member, depth + 1)
    return example


def _offers_value(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(spec, schema)
    if _given(schema)[0]:
        return True
    branches = schema.get("anyOf", schema.get("oneOf", []))
    return any(_given(_resolve(spec, b))[0] for b in branches)


def _url(spec: dict[str, Any], path: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    postman_path = re.sub(r"\{([^}]+)\}", r":\1", path)
    url: dict[str, Any] = {"raw": "{{baseUrl}}" + postman_path, "host": ["{{baseUrl}}"],
                           "path": [part for part in postman_path.split("/") if part]}
    query = []
    for parameter in parameters:
        if parameter.get("in") != "query":
            continue
        value = example_of(spec, parameter.get("schema", {}))
        required = bool(parameter.get("required"))
        query.append({"key": parameter["name"],
                      "value": "" if value is None else _text(value),
                      "description": parameter.get("description", ""),
                      "disabled": not required})
    if query:
        url["query"] = query
        enabled = "&".join(f"{q['key']}={q['value']}" for q in query if not q["disabled"])
        url["raw"] += f"?{enabled}" if enabled else ""
    variables = [{"key": p["name"], "value": "", "description": p.get("description", "")}
                 for p in parameters if p.get("in") == "path"]
    if variables:
        url["variable"] = variables
    return url


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _request(spec: dict[str, Any], path: str, method: str,
             operation: dict[str, Any], shared: list[dict[str, Any]]) -> dict[str, Any]:
    parameters = [_resolve(spec, p) for p in [*shared, *operation.get("parameters", [])]]
    headers = [{"key": p["name"], "value": "", "description": p.get("description", ""),
                "disabled": not p.get("required")}
               for p in parameters if p.get("in") == "header" and p["name"] != "Idempotency-Key"]
    request: dict[str, Any] = {"method": method.upper(), "header": headers,
                               "url": _url(spec, path, parameters),
                               "description": operation.get("description", "")}
    content = _resolve(spec, operation.get("requestBody", {})).get("content", {})
    if "application/json" in content:
        media = content["application/json"]
        found, body = _given(media)
        if not found:
            body = example_of(spec, media.get("schema", {}))
        headers.append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": json.dumps(body, indent=2),
                           "options": {"raw": {"language": "json"}}}
    if "security" in operation and not operation["security"]:
        request["auth"] = {"type": "noauth"}
    elif "security" not in operation and "security" not in spec:
        request["auth"] = {"type": "noauth"}
    name = operation.get("summary") or operation.get("operationId") or f"{method.upper()} {path}"
    return {"name": name, "request": request}


def collection_from_openapi(spec: dict[str, Any], *, base_url: str = "") -> dict[str, Any]:
    """The Postman v2.1 collection of every operation in `spec`, each exactly once (an
    operation with several tags sits in its first tag's folder)."""
    folders: dict[str, list[dict[str, Any]]] = {t["name"]: [] for t in spec.get("tags", [])}
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            tag = (operation.get("tags") or ["default"])[0]
            folders.setdefault(tag, []).append(_request(spec, path, method, operation, shared))
    descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    info = spec.get("info", {})
    return {
        "info": {"name": info.get("title", COLLECTION_NAME),
                 "description": info.get("description", ""),
                 "version": info.get("version", ""), "schema": COLLECTION_SCHEMA},
        "item": [{"name": tag, "description": descriptions.get(tag, ""), "item": requests}
                 for tag, requests in folders.items() if requests],
        "auth": {"type": "bearer",
                 "bearer": [{"key": "token", "value": "{{apiKey}}", "type": "string"}]},
        "event": [{"listen": "prerequest",
                   "script": {"type": "text/javascript", "exec": IDEMPOTENCY_SCRIPT}}],
        "variable": [{"key": "baseUrl", "value": base_url, "type": "string"}],
    }


def environment(*, base_url: str) -> dict[str, Any]:
    """The Postman environment the collection reads: where the API is, and an empty key."""
    return {"name": ENVIRONMENT_NAME,
            "values": [{"key": "baseUrl", "value": base_url, "type": "default", "enabled": True},
                       {"key": "apiKey", "value": "", "type": "secret", "enabled": True}],
            "_postman_variable_scope": "environment"}
