"""/api/v1/runs/{id}/rerun: re-run a finished or FLAGGED run from one of its steps, and the
preview of what that would run again."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status
from starlette.concurrency import run_in_threadpool

from app.api.deps import ReadSession, require
from app.api.idempotency import KeptAnswer, Keyed
from app.api.openapi import problems
from app.api.routes.runs import CREATED_HEADERS, RUN_LINKS
from app.api.routing import api_router
from app.api.schemas.reruns import RerunCreate, RerunPreview, Version
from app.api.schemas.runs import RunPublic
from app.db import write_session
from app.models import Actor
from app.services import reruns
from app.services.runs import Started

router = api_router(prefix="/api/v1", tags=["runs"])

Reader = Annotated[Actor, Depends(require("runs:read"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]


@router.get("/runs/{run_id}/rerun-preview", name="preview_rerun", response_model=RerunPreview,
            responses=problems(404, 409),
            summary="What a re-run from a step would run again, and its side effects")
def preview_rerun(run_id: str, caller: Reader, session: ReadSession,
                  from_step: Annotated[str, Query(min_length=1, max_length=64)],
                  version: Version = "pinned") -> RerunPreview:
    shown = reruns.plan(session, actor=caller, run_id=run_id, from_step=from_step,
                        version=version)
    return RerunPreview.model_validate(shown.as_dict())


def _rerun(caller: Actor, run_id: str, body: RerunCreate,
           answer: KeptAnswer[Started]) -> Started:
    with write_session() as session:
        answer.claim(session)
        started = reruns.rerun(session, actor=caller, run_id=run_id,
                               from_step=body.from_step, version=body.version)
        answer(session, started)
        session.commit()
        return started


@router.post("/runs/{run_id}/rerun", name="rerun_run", status_code=status.HTTP_201_CREATED,
             response_model=RunPublic, responses={**problems(404, 409), **RUN_LINKS},
             openapi_extra=CREATED_HEADERS,
             summary="Re-run from a step: a new run with the earlier steps' outputs kept")
async def rerun_run(run_id: str, body: RerunCreate, caller: Runner, keyed: Keyed) -> Response:
    answer: KeptAnswer[Started] = KeptAnswer(
        keyed, _shape, status=status.HTTP_201_CREATED,
        headers=lambda started: {"Location": f"{router.prefix}/runs/{started.run.id}"})
    await run_in_threadpool(_rerun, caller, run_id, body, answer)
    return answer.response()


def _shape(started: Started) -> RunPublic:
    return RunPublic.of(started.run, [started.first_step])
