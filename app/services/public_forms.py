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
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.errors import RateLimited
from app.models import Actor
from app.repo import runs as runs_repo
from app.services.forms import public_form, submit_form

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


@dataclass
class PublicFormView:
    slug: str
    title: str
    description: str
    fields: list[dict[str, Any]]
    success_message: str
    starts_run: bool


@dataclass
class Receipt:
    submission_id: str
    run_id: str | None
    success_message: str


def load_public_form(session: Session, *, slug: str) -> PublicFormView:
    """A published form by slug: NotFound when there is none, Conflict when unpublished."""
    form = public_form(session, slug=slug)
    return PublicFormView(slug=form.slug, title=form.title, description=form.description,
                          fields=[dict(f) for f in form.fields or []],
                          success_message=form.success_message,
                          starts_run=bool(form.workflow_id))


def submit_public_form(session: Session, *, slug: str, data: dict[str, Any],
                       client: str, limiter: SubmissionLimiter = LIMITER) -> Receipt:
    """Count the attempt against the client's limit, then validate, store and start the run."""
    limiter.hit(f"{slug}|{client}")
    form = public_form(session, slug=slug)
    actor = Actor(type="public", label=f"public form /f/{form.slug}")
    submission = submit_form(session, form=form, data=data, actor=actor)
    return Receipt(submission_id=submission.id, run_id=submission.run_id,
                   success_message=form.success_message)


def run_status_of_submission(session: Session, *, slug: str, run_id: str) -> str | None:
    """The status of the run a submission to this form started (None if it is not one)."""
    form = public_form(session, slug=slug)
    run = runs_repo.get_run(session, run_id, workspace_id=form.workspace_id)
    return run.status if run is not None and run.workflow_id == form.workflow_id else None
