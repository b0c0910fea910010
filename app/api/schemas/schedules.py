"""Schedules: what is sent to create or change one, what is shown, the preview of a cron
expression and the fire history."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.api.schemas.common import Page, RequestBody, Timestamp

CRON_DOC = ("Five crontab fields: minute hour day-of-month month day-of-week (0 or 7 = Sunday, "
            "names like mon or jan allowed), or @hourly, @daily (@midnight), @weekly, @monthly, "
            "@yearly (@annually). "
            "When both day fields are set, a day matching either is due, as in crontab.")
ZONE_DOC = "An IANA time zone; the cron's times are wall-clock times there."
POLICY_DOC = ("What happens to due times missed while no Flowdesk process was running "
              "(more than 60 s late): `skip` drops them, `run_once` starts one run for all "
              "of them. Either way the history records how many were missed.")
MissedPolicyName = Literal["skip", "run_once"]


class ScheduleCreate(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "workflow_id": "wf_01jd2y7k3m8q9r4s5t6v7w8x9y", "name": "Weekly report",
        "cron": "0 9 * * mon", "timezone": "Europe/Berlin", "input": {"team": "sales"}}]})

    workflow_id: str = Field(min_length=1, max_length=40)
    name: str = Field("", max_length=200)
    cron: str = Field(min_length=1, max_length=120, description=CRON_DOC)
    timezone: str = Field("UTC", min_length=1, max_length=64, description=ZONE_DOC)
    input: dict[str, Any] = Field(default_factory=dict, description=(
        "The input of every run it starts; checked against the workflow's input fields."))
    missed_policy: MissedPolicyName = Field("skip", description=POLICY_DOC)
    enabled: bool = Field(True, description="false creates it paused.")


class ScheduleUpdate(RequestBody):
    """Only the properties sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"cron": "0 8 * * mon-fri"}]})

    name: str | None = Field(None, max_length=200)
    cron: str | None = Field(None, min_length=1, max_length=120, description=CRON_DOC)
    timezone: str | None = Field(None, min_length=1, max_length=64, description=ZONE_DOC)
    input: dict[str, Any] | None = None
    missed_policy: MissedPolicyName | None = Field(None, description=POLICY_DOC)

    @field_validator("name", "cron", "timezone", "input", "missed_policy")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class Timing(BaseModel):
    description: str = Field(examples=["At 09:00, on Monday"],
                             description="The expression in words.")
    next_fire_times: list[Timestamp] = Field(description="The next five due times (UTC).")


class SchedulePublic(Timing):
    id: str = Field(examples=["sch_01jd2y7k3m8q9r4s5t6v7w8x9y"])
    workflow_id: str
    name: str
    cron: str
    timezone: str
    input: dict[str, Any]
    missed_policy: str
    enabled: bool = Field(description="false while paused.")
    next_fire_at: Timestamp | None = Field(description="The next due time; null while paused.")
    last_fired_at: Timestamp | None
    last_run_id: str | None
    created_by: str | None
    created_at: Timestamp
    updated_at: Timestamp


class SchedulePage(Page[SchedulePublic]):
    pass


class FirePublic(BaseModel):
    id: str
    kind: Literal["fired", "run_now", "missed", "failed"] = Field(description=(
        "fired: a due time started a run; run_now: started out of turn; missed: due times "
        "passed while down (`missed` says how many; a run_id when the policy is run_once); "
        "failed: the run could not start (`detail` says why)."))
    due_at: Timestamp
    at: Timestamp = Field(description="When it was acted on.")
    missed: int
    run_id: str | None
    run_status: str | None
    detail: str | None


class FirePage(Page[FirePublic]):
    pass
