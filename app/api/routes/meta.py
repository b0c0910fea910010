"""/api/v1/health: liveness, no key needed."""

from __future__ import annotations

from pydantic import BaseModel

from app.api.routing import api_router

router = api_router(prefix="/api/v1", tags=["meta"])


class Health(BaseModel):
    status: str = "ok"


@router.get("/health", name="health", response_model=Health, summary="Liveness of the API")
def health() -> Health:
    return Health()
