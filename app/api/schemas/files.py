"""Uploaded files: the metadata and a short-lived download link (never the bytes inline)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import Timestamp


class FilePublic(BaseModel):
    id: str = Field(examples=["fil_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    name: str = Field(description="The uploaded name, without folders or control characters.",
                      examples=["invoice.pdf"])
    size: int = Field(description="Bytes.", examples=[48213])
    content_type: str = Field(description="Judged from the bytes; the client's type is "
                                          "ignored.", examples=["application/pdf"])
    sha256: str = Field(examples=[
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])
    created_at: Timestamp
    download_url: str = Field(description="Fetches the bytes without an API key until it "
                                          "expires (15 minutes).")
