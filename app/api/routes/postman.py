"""/api/v1/postman/*: the API as a Postman collection and environment, made from the OpenAPI
document at request time. No key needed, as for openapi.json (the document is public too)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.api.postman import collection_from_openapi, environment
from app.api.routing import api_router

router = api_router(prefix="/api/v1/postman", tags=["meta"])


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.get("/collection.json", name="postman_collection", include_in_schema=False)
async def postman_collection(request: Request) -> dict[str, Any]:
    return collection_from_openapi(request.app.openapi(), base_url=_base_url(request))


@router.get("/environment.json", name="postman_environment", include_in_schema=False)
async def postman_environment(request: Request) -> dict[str, Any]:
    return environment(base_url=_base_url(request))
