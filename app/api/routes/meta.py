"""/api/v1/health: liveness, no key needed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(prefix="/api/v1", tags=["meta"])


class Health(BaseModel):
    status: str = "ok"


@router.get("/health", name="health", response_model=Health, summary="Liveness of the API")
def health() -> Health:
    return Health()
