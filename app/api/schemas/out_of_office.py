"""Out of office: the delegate a member names for a date range (an API key acts for them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.common import RequestBody, Timestamp
from app.services.out_of_office import OutOfOffice

USER_DESCRIPTION = ("The member whose setting it is, by email: an API key acts for no person, "
                    "so it names the member it acts for (a chat bot, an HR portal)")


class OutOfOfficeUpdate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"user": "ann@acme.test", "delegate_email": "cat@acme.test",
         "starts_at": "2027-01-04T00:00:00Z", "ends_at": "2027-01-09T00:00:00Z"}]})

    user: str = Field(min_length=3, max_length=320, description=USER_DESCRIPTION)
    delegate_email: str = Field(min_length=3, max_length=320, description=(
        "An active member who may decide approvals (not the member themselves)"))
    starts_at: Timestamp | None = Field(None, description="When the absence starts (now when "
                                                          "omitted)")
    ends_at: Timestamp = Field(description="When they are back: the delegate stops acting "
                                           "then (after starts_at, in the future)")


class OutOfOfficePublic(BaseModel):
    user: str = Field(examples=["ann@acme.test"])
    delegate_email: str | None = Field(description="null: no out-of-office set (or it ended)",
                                       examples=["cat@acme.test"])
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    active: bool = Field(description="The absence is under way now (the delegate decides the "
                                     "member's items by name)")

    @classmethod
    def of(cls, user: str, shown: OutOfOffice | None) -> OutOfOfficePublic:
        if shown is None:
            return cls(user=user, delegate_email=None, starts_at=None, ends_at=None,
                       active=False)
        return cls.model_validate({"user": shown.user_email,
                                   "delegate_email": shown.delegate_email,
                                   "starts_at": shown.starts_at, "ends_at": shown.ends_at,
                                   "active": shown.active})
