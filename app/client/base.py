"""What every part of the client shares: the error, the API prefix, a resource's base."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import BaseModel

if TYPE_CHECKING:
    from app.client import FlowdeskClient

DEFAULT_TIMEOUT_S = 40.0  # above the longest run-and-wait (30 s)
API = "/api/v1"

Model = TypeVar("Model", bound=BaseModel)
Item = TypeVar("Item", bound=BaseModel)


class FlowdeskError(Exception):
    """An error answer: `status`, and the problem+json body (`code`, `detail`, `errors`)."""

    def __init__(self, status: int, problem: Mapping[str, Any], response: httpx.Response):
        self.status = status
        self.problem = dict(problem)
        self.code: str = str(problem.get("code", ""))
        self.detail: str = str(problem.get("detail", ""))
        self.errors: list[dict[str, Any]] = list(problem.get("errors") or [])
        self.response = response
        super().__init__(f"{status} {self.code}: {self.detail}")


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


class _Resource:
    def __init__(self, client: FlowdeskClient) -> None:
        self.client = client
