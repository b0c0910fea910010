"""Credentials: written once, listed without their value, never read back."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.common import Page, RequestBody, Timestamp


class CredentialCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "hr-api", "type": "bearer", "value": "s3cr3t-token"}]})

    name: str = Field(min_length=1, max_length=200)
    type: Literal["bearer", "api_key", "basic", "header"] = Field(
        description="bearer (Authorization: Bearer), api_key (X-Api-Key), basic "
                    "(value 'user:password'), header (config.header names it)")
    value: str = Field(min_length=1, max_length=10_000, description="Encrypted at rest; never "
                                                                   "returned.")
    config: dict[str, str] = Field(default_factory=dict, max_length=20,
                                   examples=[{"header": "X-Token"}])


class CredentialPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(examples=["cred_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    name: str
    type: str
    config: dict[str, str]
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp


class CredentialPage(Page[CredentialPublic]):
    pass
