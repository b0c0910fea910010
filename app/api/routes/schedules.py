"""/api/v1/schedules: create, list, get (with the next five due times), change, delete, pause,
resume, run now, the fire history; and a preview of any cron expression. Reading needs
workflows:read, changing workflows:write, run-now runs:write."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response, status
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.api.deps import ReadSession, WriteSession, require
from app.api.filters import Conditions, add_search, filters_param
from app.api.idempotency import KeptAnswer, Keyed
from app.api.openapi import problems
from app.api.pagination import OffsetPaging, PageRequest, Paging, page_of
from app.api.routes.runs import CREATED_HEADERS, RUN_LINKS
from app.api.routing import api_router
from app.api.schemas.runs import RunPublic
from app.api.schemas.schedules import (
    FirePage,
    FirePublic,
    ScheduleCreate,
    SchedulePage,
    SchedulePublic,
    ScheduleUpdate,
    Timing,
)
from app.db import write_session
from app.models import Actor, Schedule
from app.repo import schedules as schedules_repo
from app.repo.schedules import FireEntry
from app.services import schedules
from app.services.runs import Started

router = api_router(prefix="/api/v1/schedules", tags=["schedules"])

Reader = Annotated[Actor, Depends(require("workflows:read"))]
Builder = Annotated[Actor, Depends(require("workflows:write"))]
Runner = Annotated[Actor, Depends(require("runs:write"))]
ATTRIBUTES = schedules_repo.SCHEDULE_ATTRIBUTES
ScheduleConditions = Annotated[Conditions, Depends(filters_param(ATTRIBUTES))]
LINKS = {
    "GetSchedule": {"operationId": "get_schedule",
                    "parameters": {"schedule_id": "$response.body#/id"}},
    "PauseSchedule": {"operationId": "pause_schedule",
                      "parameters": {"schedule_id": "$response.body#/id"}},
    "ListScheduleFires": {"operationId": "list_schedule_fires",
                          "parameters": {"schedule_id": "$response.body#/id"}},
}


def schedule_public(schedule: Schedule) -> SchedulePublic:
    timing = schedules.timing_of(schedule)
    return SchedulePublic.model_validate({
        **schedule.model_dump(), "description": timing.description,
        "next_fire_times": timing.next_fire_times if schedule.enabled else []})


def fire_public(entry: FireEntry) -> FirePublic:
    fire = entry.fire
    return FirePublic(id=fire.id, kind=fire.kind, due_at=fire.due_at, at=fire.at,
                      missed=fire.missed, run_id=fire.run_id, run_status=entry.run_status,
                      detail=fire.detail)


@router.get("", name="list_schedules", response_model=SchedulePage,
            summary="List schedules, newest first")
def list_schedules(caller: Reader, session: ReadSession, paging: OffsetPaging,
                   conditions: ScheduleConditions,
                   workflow_id: Annotated[str | None, Query(
                       max_length=40, description="Only this workflow's schedules.")] = None,
                   ) -> dict[str, object]:
    return _page(caller, session, paging, conditions, workflow_id)


# The repository directly (a read): the service's list takes no offset or conditions.
def _page(caller: Actor, session: Session, paging: PageRequest, conditions: Conditions,
          workflow_id: str | None = None) -> dict[str, object]:
    rows = schedules_repo.list_schedules_page(
        session, workspace_id=caller.workspace_id, limit=paging.fetch, workflow_id=workflow_id,
        before=paging.before, offset=paging.offset, conditions=conditions)
    return page_of(rows, paging, schedule_public)


add_search(router, "/search", name="search_schedules", response_model=SchedulePage,
           summary="List schedules matching structured filters", attributes=ATTRIBUTES,
           caller=require("workflows:read"), page=_page)


@router.get("/preview", name="preview_schedule", response_model=Timing,
            summary="A cron expression in words with its next five due times (422 if invalid)")
def preview(caller: Reader,
            cron: Annotated[str, Query(min_length=1, max_length=120, examples=["0 9 * * 1-5"])],
            timezone: Annotated[str, Query(min_length=1, max_length=64)] = "UTC") -> Timing:
    shown = schedules.timing(cron, timezone)
    return Timing(description=shown.description, next_fire_times=shown.next_fire_times)


@router.post("", name="create_schedule", status_code=status.HTTP_201_CREATED,
             response_model=SchedulePublic, responses={**problems(404),
                                                        201: {"links": LINKS}},
             summary="Schedule a published workflow's runs",
             openapi_extra={"x-response-headers": {"201": ["Location"]}})
def create_schedule(body: ScheduleCreate, caller: Builder, session: WriteSession,
                    response: Response) -> SchedulePublic:
    schedule = schedules.create_schedule(
        session, workspace_id=caller.workspace_id, workflow_id=body.workflow_id,
        cron=body.cron, actor=caller, timezone=body.timezone, input=body.input,
        name=body.name, missed_policy=body.missed_policy, enabled=body.enabled)
    response.headers["Location"] = f"{router.prefix}/{schedule.id}"
    return schedule_public(schedule)


@router.get("/{schedule_id}", name="get_schedule", response_model=SchedulePublic,
            responses=problems(404), summary="A schedule with its next five due times")
def get_schedule(schedule_id: str, caller: Reader, session: ReadSession) -> SchedulePublic:
    return schedule_public(schedules.get_schedule(session, workspace_id=caller.workspace_id,
                                                  schedule_id=schedule_id))


@router.patch("/{schedule_id}", name="update_schedule", response_model=SchedulePublic,
              responses=problems(404), summary="Change the cron, zone, input, name or policy")
def update_schedule(schedule_id: str, body: ScheduleUpdate, caller: Builder,
                    session: WriteSession) -> SchedulePublic:
    return schedule_public(schedules.update_schedule(
        session, actor=caller, schedule_id=schedule_id, **body.model_dump(exclude_unset=True)))


@router.delete("/{schedule_id}", name="delete_schedule", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses=problems(404),
               summary="Delete a schedule and its history (the runs it started stay)")
def delete_schedule(schedule_id: str, caller: Builder, session: WriteSession) -> Response:
    schedules.delete_schedule(session, actor=caller, schedule_id=schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{schedule_id}/pause", name="pause_schedule", response_model=SchedulePublic,
             responses=problems(404), summary="Pause: no runs start until it is resumed")
def pause(schedule_id: str, caller: Builder, session: WriteSession) -> SchedulePublic:
    return schedule_public(schedules.set_enabled(session, actor=caller,
                                                 schedule_id=schedule_id, enabled=False))


@router.post("/{schedule_id}/resume", name="resume_schedule", response_model=SchedulePublic,
             responses=problems(404),
             summary="Resume: next due at the first due time from now (none counted missed)")
def resume(schedule_id: str, caller: Builder, session: WriteSession) -> SchedulePublic:
    return schedule_public(schedules.set_enabled(session, actor=caller,
                                                 schedule_id=schedule_id, enabled=True))


def _run_now(caller: Actor, schedule_id: str, answer: KeptAnswer[Started]) -> Started:
    with write_session() as session:
        answer.claim(session)
        started = schedules.run_now(session, actor=caller, schedule_id=schedule_id)
        answer(session, started)
        session.commit()
        return started


@router.post("/{schedule_id}/run-now", name="run_schedule_now",
             status_code=status.HTTP_201_CREATED, response_model=RunPublic,
             responses={**problems(404, 409), **RUN_LINKS}, openapi_extra=CREATED_HEADERS,
             summary="Start a run with the schedule's input now (its due times stay)")
async def run_now(schedule_id: str, caller: Runner, keyed: Keyed) -> Response:
    answer: KeptAnswer[Started] = KeptAnswer(
        keyed, lambda started: RunPublic.of(started.run, [started.first_step]),
        status=status.HTTP_201_CREATED,
        headers=lambda started: {"Location": f"/api/v1/runs/{started.run.id}"})
    await run_in_threadpool(_run_now, caller, schedule_id, answer)
    return answer.response()


@router.get("/{schedule_id}/fires", name="list_schedule_fires", response_model=FirePage,
            responses=problems(404),
            summary="What each due time did: runs started, missed due times, failures")
def list_fires(schedule_id: str, caller: Reader, session: ReadSession,
               paging: Paging) -> dict[str, object]:
    rows = schedules.history(session, workspace_id=caller.workspace_id,
                             schedule_id=schedule_id, limit=paging.fetch, before=paging.before)
    return page_of(rows, paging, fire_public, key=lambda e: (e.fire.at, e.fire.id))
