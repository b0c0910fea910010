"""Structured filters on lists (seed 001): `[{"attribute", "operator", "values"}]`, as the JSON
`filters` query parameter of a GET list or the body of its POST …/search twin (the array
itself, or an object holding it in `filters`). Each condition is checked against the list's
attributes here: an unknown attribute, an operator the attribute does not take, or a value of
the wrong type or count is a 422 naming `filters[i].attribute`, `.operator` or `.values`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from app.api.deps import ReadSession
from app.api.pagination import (
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    MAX_PAGE,
    RFC3339,
    OffsetPaging,
    PageRequest,
    paging_of,
)
from app.api.schemas.common import RequestBody
from app.clock import as_utc
from app.errors import FieldError, ValidationFailed
from app.models import Actor
from app.repo.conditions import (
    ENUM,
    FLAG,
    MANY_VALUES,
    NO_VALUE,
    NUMBER,
    ONE_VALUE,
    TEXT,
    TIME,
    TWO_VALUES,
    Attribute,
    Condition,
)

MAX_CONDITIONS = 20
MAX_VALUES = 100
MAX_TEXT = 500
MAX_FILTERS_PARAM = 8192
MAX_INT = 2**63 - 1
FilterValue = str | int | float | bool | None
# A list route's checked filters: `Annotated[Conditions, Depends(filters_param(...))]`.
Conditions = tuple[Condition, ...]


class FilterCondition(BaseModel):
    """One condition; every condition given must hold."""

    attribute: str = Field(min_length=1, max_length=64, examples=["status"])
    operator: str = Field(min_length=1, max_length=32, examples=["in"])
    values: list[FilterValue] = Field(default_factory=list, max_length=MAX_VALUES,
                                      examples=[["BLOCKED", "FLAGGED"]])


class SearchRequest(RequestBody):
    """Seed 001's request object: the filters with the page wanted."""

    filters: list[FilterCondition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    page: int | None = Field(None, ge=1, le=MAX_PAGE)
    per_page: int | None = Field(None, ge=1, le=MAX_LIMIT)
    next_page_token: str | None = Field(None, max_length=MAX_CURSOR_LENGTH)


SearchBody = Annotated[list[FilterCondition], Field(max_length=MAX_CONDITIONS)] | SearchRequest


def _problem(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"Invalid filter ({field}: {message})",
                            errors=[FieldError(field, message)])


def _value(attribute: Attribute, value: Any, where: str) -> Any:
    kind = attribute.kind
    if kind in (TEXT, ENUM):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise _problem(where, f"must be text of at most {MAX_TEXT} characters")
        if kind == ENUM and value not in attribute.choices:
            raise _problem(where, f"must be one of {', '.join(attribute.choices)}")
        return value
    if kind == TIME:
        if not isinstance(value, str) or not RFC3339.fullmatch(value):
            raise _problem(where, "must be an RFC 3339 date-time such as 2026-04-01T00:00:00Z")
        try:
            return as_utc(datetime.fromisoformat(value))
        except (ValueError, OverflowError):
            raise _problem(where, "is out of the supported date range") from None
    if kind == FLAG:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise _problem(where, "must be true or false")
    if kind == NUMBER and isinstance(value, int) and not isinstance(value, bool) \
            and abs(value) <= MAX_INT:
        return value
    raise _problem(where, "must be an integer")


def _count_problem(operator: str, count: int) -> str | None:
    if operator in ONE_VALUE and count != 1:
        return f"'{operator}' takes exactly one value"
    if operator in TWO_VALUES and count != 2:
        return f"'{operator}' takes two values: the lower and the upper bound"
    if operator in MANY_VALUES and count < 1:
        return f"'{operator}' takes one value or more"
    if operator in NO_VALUE and count:
        return f"'{operator}' takes no values"
    return None


def check_conditions(raw: Sequence[FilterCondition], attributes: Mapping[str, Attribute],
                     prefix: str = "filters") -> tuple[Condition, ...]:
    """The conditions, checked against a list's attributes (422 naming the first problem)."""
    if len(raw) > MAX_CONDITIONS:
        raise _problem(prefix, f"at most {MAX_CONDITIONS} conditions")
    checked = []
    for index, item in enumerate(raw):
        where = f"{prefix}[{index}]"
        attribute = attributes.get(item.attribute)
        if attribute is None:
            raise _problem(f"{where}.attribute", f"'{item.attribute}' is not a filterable "
                           f"attribute here; use one of {', '.join(attributes)}")
        if item.operator not in attribute.operators:
            raise _problem(f"{where}.operator", f"'{item.operator}' does not apply to "
                           f"'{item.attribute}'; use one of {', '.join(attribute.operators)}")
        problem = _count_problem(item.operator, len(item.values))
        if problem:
            raise _problem(f"{where}.values", problem)
        values = tuple(_value(attribute, value, f"{where}.values[{i}]")
                       for i, value in enumerate(item.values))
        checked.append(Condition(item.attribute, item.operator, values))
    return tuple(checked)


def parse_filters_param(text: str | None,
                        attributes: Mapping[str, Attribute]) -> tuple[Condition, ...]:
    """The `filters` query parameter: a JSON array of conditions."""
    if not text:
        return ()
    try:
        raw = json.loads(text)
    except ValueError:
        raise _problem("filters", "must be a JSON array of {attribute, operator, values}") \
            from None
    if isinstance(raw, Mapping) and "filters" in raw:
        raw = raw["filters"]
    if not isinstance(raw, list):
        raise _problem("filters", "must be a JSON array of {attribute, operator, values}")
    items = []
    for index, item in enumerate(raw[: MAX_CONDITIONS + 1]):
        try:
            items.append(FilterCondition.model_validate(item))
        except ValueError:
            raise _problem(f"filters[{index}]", "must be an object with a text attribute and "
                           "operator and a values array") from None
    return check_conditions(items, attributes)


def _describe(attributes: Mapping[str, Attribute]) -> str:
    listed = "; ".join(f"`{name}` ({', '.join(a.operators)})" for name, a in attributes.items())
    return ("Structured filters (seed 001): a JSON array of `{\"attribute\", \"operator\", "
            "\"values\"}`, all of which must hold. Attributes and their operators: "
            f"{listed}. Date-times are RFC 3339; 422 names a bad attribute, operator or "
            "value.")


def filters_param(attributes: Mapping[str, Attribute]) -> Callable[..., Any]:
    """A dependency reading the `filters` query parameter of a list with these attributes."""

    # The Query as a default, not in Annotated: this module's annotations are strings, and
    # one naming this function's locals could not be resolved.
    described = Query(None, max_length=MAX_FILTERS_PARAM, description=_describe(attributes),
                      examples=['[{"attribute":"created_at","operator":"gte",'
                                '"values":["2026-04-01T00:00:00Z"]}]'])

    async def dependency(filters: str | None = described) -> Conditions:
        return parse_filters_param(filters, attributes)

    return dependency


def search_of(body: SearchBody | None, paging: PageRequest,
              attributes: Mapping[str, Attribute]) -> tuple[Conditions, PageRequest]:
    """A POST …/search body's conditions, and its page (the body's paging, when it has any,
    instead of the query's)."""
    if body is None:
        return (), paging
    if isinstance(body, list):
        return check_conditions(body, attributes), paging
    conditions = check_conditions(body.filters, attributes)
    if body.page is None and body.per_page is None and body.next_page_token is None:
        return conditions, paging
    return conditions, paging_of(per_page=body.per_page, next_page_token=body.next_page_token,
                                 page=body.page)


def _search_description(attributes: Mapping[str, Attribute]) -> str:
    return ("The list's filters in the body (seed 001): the array of conditions itself, or "
            "an object with `filters` and optionally `page`, `per_page`, `next_page_token` "
            "(which then replace the query's). " + _describe(attributes).split(": ", 1)[1])


ListPage = Callable[[Actor, Session, PageRequest, Conditions], dict[str, object]]


def add_search(router: APIRouter, path: str, *, name: str, summary: str,
               attributes: Mapping[str, Attribute], response_model: Any,
               caller: Callable[..., Actor], page: ListPage) -> None:
    """POST `path` (a list's …/search twin): the body's filters, then the list's `page`."""
    admitted = Depends(caller)
    body_given = Body(None)

    def search(paging: OffsetPaging, session: ReadSession, actor: Actor = admitted,
               body: SearchBody | None = body_given) -> dict[str, object]:
        conditions, wanted = search_of(body, paging, attributes)
        return page(actor, session, wanted, conditions)

    router.add_api_route(path, search, methods=["POST"], name=name, summary=summary,
                         response_model=response_model, tags=["compat: seed 001"],
                         description=_search_description(attributes))
