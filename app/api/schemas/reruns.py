"""Re-run bodies and the preview of what a re-run would do."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.api.schemas.common import RequestBody

Version = Literal["pinned", "latest"]


class RerunCreate(RequestBody):
    from_step: str = Field(min_length=1, max_length=64, examples=["charge"],
                           description="The step to start from: one the run reached.")
    version: Version = Field("pinned", description="`pinned`: the run's own version; "
                             "`latest`: the workflow's published version (a fix).")


class RerunStep(BaseModel):
    key: str
    kind: str
    side_effect: str | None = Field(
        description="What it does outside Flowdesk when it runs again (http calls, "
                    "sub-workflows), else null.")


class RerunPreview(BaseModel):
    run_id: str
    from_step: str
    version: Version
    version_number: int
    kept_outputs: list[str] = Field(description="Steps whose outputs the new run starts with "
                                                "(they do not run again).")
    steps: list[RerunStep] = Field(description="Every step that may run again: those "
                                               "reachable from from_step.")
    side_effect_steps: list[str]
    from_step_choices: list[str] = Field(description="The steps the run reached.")
