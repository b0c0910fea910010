"""Structured list filters (seed 001's `[{"attribute", "operator", "values"}]`) as SQL: each
list names the attributes it takes (a column and a kind), and `apply` narrows its query.

The API checks a condition against the list's attributes before it gets here (422 naming the
bad attribute, operator or value), so `apply` only meets conditions it can express.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import String, and_, cast, func, not_
from sqlalchemy.sql import ColumnElement

TEXT = "text"
ENUM = "enum"
TIME = "datetime"
FLAG = "boolean"
NUMBER = "integer"

# Operators by the number of values they take.
ONE_VALUE = ("eq", "neq", "contains", "starts_with", "gt", "gte", "lt", "lte")
MANY_VALUES = ("in", "not_in")
TWO_VALUES = ("between",)
NO_VALUE = ("is_empty", "is_not_empty")
OPERATORS_OF_KIND: dict[str, tuple[str, ...]] = {
    TEXT: ("eq", "neq", "in", "not_in", "contains", "starts_with", "is_empty", "is_not_empty"),
    ENUM: ("eq", "neq", "in", "not_in"),
    TIME: ("eq", "gt", "gte", "lt", "lte", "between", "is_empty", "is_not_empty"),
    FLAG: ("eq", "neq"),
    NUMBER: ("eq", "neq", "in", "not_in", "gt", "gte", "lt", "lte", "between"),
}

Query = TypeVar("Query")


@dataclass(frozen=True)
class Attribute:
    """A filterable attribute of a list: its column, kind and (for an enum) its values."""

    column: Any
    kind: str
    choices: tuple[str, ...] = ()
    nullable: bool = False

    @property
    def operators(self) -> tuple[str, ...]:
        found = OPERATORS_OF_KIND[self.kind]
        if not self.nullable:
            found = tuple(op for op in found if op not in NO_VALUE or self.kind == TEXT)
        return found


@dataclass(frozen=True)
class Condition:
    """One checked filter: values already of the attribute's type."""

    attribute: str
    operator: str
    values: tuple[Any, ...] = ()


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _text_clause(column: Any, operator: str, values: tuple[Any, ...]) -> ColumnElement[bool]:
    lowered: ColumnElement[str] = func.lower(cast(column, String))
    if operator == "contains":
        return lowered.like(f"%{_like(str(values[0]).lower())}%", escape="\\")
    if operator == "starts_with":
        return lowered.like(f"{_like(str(values[0]).lower())}%", escape="\\")
    text: ColumnElement[str] = cast(column, String)
    if operator == "is_empty":
        return text.is_(None) | (text == "")
    return text.is_not(None) & (text != "")


def clause(attribute: Attribute, condition: Condition) -> ColumnElement[bool]:
    column, operator, values = attribute.column, condition.operator, condition.values
    simple: dict[str, Any] = {
        "eq": lambda: column == values[0], "neq": lambda: column != values[0],
        "gt": lambda: column > values[0], "gte": lambda: column >= values[0],
        "lt": lambda: column < values[0], "lte": lambda: column <= values[0],
        "in": lambda: column.in_(list(values)),
        "not_in": lambda: not_(column.in_(list(values))),
        "between": lambda: and_(column >= values[0], column <= values[1]),
    }
    if operator in simple:
        built: ColumnElement[bool] = simple[operator]()
        if operator in ("neq", "not_in") and attribute.nullable:
            built = built | column.is_(None)
        return built
    if attribute.kind == TEXT:
        return _text_clause(column, operator, values)
    value: ColumnElement[Any] = column
    return value.is_(None) if operator == "is_empty" else value.is_not(None)


def apply(query: Query, attributes: Mapping[str, Attribute],
          conditions: Sequence[Condition]) -> Query:
    """The query narrowed by every condition (they all hold: AND)."""
    for condition in conditions:
        query = query.where(clause(attributes[condition.attribute], condition))  # type: ignore[attr-defined]
    return query
