"""The public form page (`/f/<slug>`, no sign-in): show a published form, take a submission
rate-limited per client, and report the started run's status on the thank-you page.

The limit is a sliding window kept in this process's memory (like the API's default slowapi
storage): with several web processes each keeps its own window, so a client gets at most
`processes * SUBMISSIONS_PER_WINDOW`; the form stays protected against a flood either way.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from app.engine.fields import FieldSpec, file_ids, validate_data
from app.errors import FieldError, RateLimited, ValidationFailed
from app.models import Actor, Form
from app.repo import runs as runs_repo
from app.services import files
from app.services.forms import public_form, served, submit_form

SUBMISSIONS_PER_WINDOW = 10
WINDOW_S = 60.0
MAX_TRACKED_CLIENTS = 10_000


class SubmissionLimiter:
    """At most `limit` attempts per client key within any `window_s` seconds."""

    def __init__(self, limit: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count an attempt; RateLimited (with seconds to wait) when over the limit."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = max(1, math.ceil(hits[0] + self.window_s - now))
                raise RateLimited(
                    f"Too many submissions from your connection; try again in {wait} s",
                    extra={"retry_after": wait})
            hits.append(now)
            if len(self._hits) > MAX_TRACKED_CLIENTS:
                self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
            del self._hits[key]

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


LIMITER = SubmissionLimiter(SUBMISSIONS_PER_WINDOW, WINDOW_S)
UPLOADS_PER_WINDOW = 30
UPLOAD_LIMITER = SubmissionLimiter(UPLOADS_PER_WINDOW, WINDOW_S)


@dataclass
class PublicFormView:
    slug: str
    title: str
    description: str
    fields: list[dict[str, Any]]
    success_message: str
    starts_run: bool
    pages: list[dict[str, Any]] = field(default_factory=list)
    version: int | None = None


@dataclass
class UploadedFile:
    id: str
    name: str
    size: int
    content_type: str


@dataclass
class Receipt:
    submission_id: str
    run_id: str | None
    success_message: str


def _uploader(form: Form) -> Actor:
    return Actor(type="public", label=f"public form /f/{form.slug}",
                 workspace_id=form.workspace_id)


def load_public_form(session: Session, *, slug: str) -> PublicFormView:
    """A published form by slug, as its published version: NotFound when there is none,
    Conflict when unpublished."""
    form = public_form(session, slug=slug)
    shown = served(session, form)
    return PublicFormView(slug=form.slug, title=shown.title, description=shown.description,
                          fields=[dict(f) for f in shown.fields or []],
                          success_message=shown.success_message or form.success_message,
                          starts_run=bool(shown.workflow_id), pages=list(shown.pages or []),
                          version=getattr(shown, "number", None))


def upload_to_public_form(session: Session, *, slug: str, field_name: str, name: str | None,
                          data: bytes, client: str,
                          limiter: SubmissionLimiter = UPLOAD_LIMITER) -> UploadedFile:
    """An anonymous upload for a file field of a published form, within that field's limits;
    only a submission to this form can then reference it."""
    limiter.hit(f"{slug}|{client}")
    form = public_form(session, slug=slug)
    specs = [FieldSpec.model_validate(f) for f in served(session, form).fields]
    spec = next((s for s in specs if s.name == field_name and s.type == "file"), None)
    if spec is None:
        raise ValidationFailed("Unknown file field", errors=[FieldError(
            field_name, "this form has no such file field", "unknown_field")])
    stored = files.upload_for_field(session, actor=_uploader(form), spec=spec, name=name,
                                    data=data, field_path=field_name)
    return UploadedFile(id=stored.id, name=stored.name, size=stored.size,
                        content_type=stored.content_type)


def submit_public_form(session: Session, *, slug: str, data: dict[str, Any],
                       client: str, limiter: SubmissionLimiter = LIMITER) -> Receipt:
    """Count the attempt against the client's limit, then validate, store and start the run."""
    limiter.hit(f"{slug}|{client}")
    form = public_form(session, slug=slug)
    actor = _uploader(form)
    submission = submit_form(session, form=form, data=data, actor=actor,
                             uploaded_by=actor.display)
    return Receipt(submission_id=submission.id, run_id=submission.run_id,
                   success_message=form.success_message)


def check_public_page(session: Session, *, slug: str, page: int,
                      data: dict[str, Any]) -> list[FieldError]:
    """The problems of one page's fields (1 = the first), judged as a submission would be:
    what Next shows before the visitor moves on."""
    form = public_form(session, slug=slug)
    specs = [FieldSpec.model_validate(f) for f in served(session, form).fields]
    lookup = files.lookup(session, workspace_id=form.workspace_id,
                          file_ids=file_ids(specs, data), uploaded_by=_uploader(form).display)
    _, problems = validate_data(specs, data, files=lookup)
    on_page = {spec.name for spec in specs if (spec.page or 1) == page}
    return [p for p in problems if p.field in on_page]


def run_status_of_submission(session: Session, *, slug: str, run_id: str) -> str | None:
    """The status of the run a submission to this form started (None if it is not one)."""
    form = public_form(session, slug=slug)
    run = runs_repo.get_run(session, run_id, workspace_id=form.workspace_id)
    return run.status if run is not None and run.workflow_id == form.workflow_id else None
