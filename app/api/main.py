"""The public REST API: one FastAPI app whose routes all live under /api/v1 (and the seed
products' compatibility paths), mounted on Reflex's backend by app/app.py."""

from __future__ import annotations

from fastapi import FastAPI

API_PREFIX = "/api/v1"


def create_api() -> FastAPI:
    api = FastAPI(
        title="Flowdesk API",
        version="1.0.0",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    @api.get(f"{API_PREFIX}/health", tags=["meta"], summary="Liveness of the API")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api
