"""/api/v1/steps/{id}: a step of a run's timeline; retry or skip it when it failed, or release
it when it waits for a signal (seed 004's `ready`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Response

from app.api.deps import ReadSession, WriteSession, require
from app.api.idempotency import KeptAnswer, Keyed
from app.api.openapi import problems
from app.api.routing import api_router
from app.api.schemas.runs import StepPublic, StepSignal
from app.errors import not_found
from app.models import Actor
from app.repo import steps as steps_repo
from app.services import runs

router = api_router(prefix="/api/v1/steps", tags=["steps"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]


@router.get("/{step_id}", name="get_step", response_model=StepPublic, responses=problems(404),
            summary="Get a step")
def get_step(step_id: str, caller: Reader, session: ReadSession) -> StepPublic:
    step = steps_repo.get_step(session, step_id, workspace_id=caller.workspace_id)
    if step is None:
        raise not_found("step", step_id)
    return StepPublic.of(step)


@router.post("/{step_id}/retry", name="retry_step", response_model=StepPublic,
             responses=problems(404),
             summary="Retry a failed step of a FLAGGED run (answers the new attempt's step)")
def retry_step(step_id: str, caller: Runner, session: WriteSession,
               keyed: Keyed) -> Response:
    answer = KeptAnswer(keyed, StepPublic.of).claim(session)
    runs.retry_step(session, workspace_id=caller.workspace_id, step_id=step_id,
                    actor=caller, before_commit=answer)
    return answer.response()


@router.post("/{step_id}/skip", name="skip_step", response_model=StepPublic,
             responses=problems(404),
             summary="Skip a failed step of a FLAGGED run; the run continues after it")
def skip_step(step_id: str, caller: Runner, session: WriteSession,
              keyed: Keyed) -> Response:
    answer = KeptAnswer(keyed, StepPublic.of).claim(session)
    runs.skip_step(session, workspace_id=caller.workspace_id, step_id=step_id,
                   actor=caller, before_commit=answer)
    return answer.response()


@router.post("/{step_id}/ready", name="signal_step", response_model=StepPublic,
             responses=problems(404),
             summary="Release a signal step that waits for an external ready")
def signal_step(step_id: str, caller: Runner, session: WriteSession, keyed: Keyed,
                body: StepSignal | None = None) -> Response:
    answer = KeptAnswer(keyed, StepPublic.of).claim(session)
    runs.signal_step(session, workspace_id=caller.workspace_id, step_id=step_id,
                     actor=caller, payload=body.payload if body else None,
                     before_commit=answer)
    return answer.response()

