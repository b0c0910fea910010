"""Forms and submissions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Form, FormSubmission, FormVersion
from app.repo.conditions import FLAG, NUMBER, TEXT, TIME, Attribute, Condition, apply

# What structured filters may name on a form list and on a submission list.
FORM_ATTRIBUTES = {
    "id": Attribute(Form.id, TEXT),
    "title": Attribute(Form.title, TEXT),
    "slug": Attribute(Form.slug, TEXT),
    "workflow_id": Attribute(Form.workflow_id, TEXT, nullable=True),
    "is_published": Attribute(Form.is_published, FLAG),
    "created_by": Attribute(Form.created_by, TEXT, nullable=True),
    "created_at": Attribute(Form.created_at, TIME),
    "updated_at": Attribute(Form.updated_at, TIME),
}
SUBMISSION_ATTRIBUTES = {
    "id": Attribute(FormSubmission.id, TEXT),
    "run_id": Attribute(FormSubmission.run_id, TEXT, nullable=True),
    "form_version": Attribute(FormSubmission.form_version, NUMBER, nullable=True),
    "created_at": Attribute(FormSubmission.created_at, TIME),
}


def get_form(session: Session, form_id: str, *, workspace_id: str | None = None) -> Form | None:
    form = session.get(Form, form_id)
    if form is None or form.deleted_at is not None:
        return None
    if workspace_id is not None and form.workspace_id != workspace_id:
        return None
    return form


def form_by_slug(session: Session, slug: str) -> Form | None:
    form = session.exec(select(Form).where(Form.slug == slug)).first()
    return None if form is None or form.deleted_at is not None else form


def form_id_with_slug(session: Session, slug: str) -> str | None:
    """The form holding a slug, deleted ones included (slugs are never reused)."""
    return session.exec(select(Form.id).where(Form.slug == slug)).first()


def list_forms(session: Session, *, workspace_id: str, limit: int, search: str | None = None,
               before: tuple[datetime, str] | None = None, offset: int = 0,
               conditions: Sequence[Condition] = ()) -> Sequence[Form]:
    query = apply(select(Form).where(Form.workspace_id == workspace_id,
                                     col(Form.deleted_at).is_(None)),
                  FORM_ATTRIBUTES, conditions)
    if search:
        query = query.where(func.lower(Form.title).like(f"%{search.lower()}%"))
    if before:
        at, ident = before
        query = query.where(
            (col(Form.created_at) < at) | ((col(Form.created_at) == at) & (col(Form.id) < ident))
        )
    query = query.order_by(col(Form.created_at).desc(), col(Form.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


def list_submissions(session: Session, *, form_id: str, limit: int,
                     created_after: datetime | None = None,
                     created_before: datetime | None = None,
                     before: tuple[datetime, str] | None = None, offset: int = 0,
                     conditions: Sequence[Condition] = ()) -> Sequence[FormSubmission]:
    query = apply(select(FormSubmission).where(FormSubmission.form_id == form_id),
                  SUBMISSION_ATTRIBUTES, conditions)
    if created_after:
        query = query.where(FormSubmission.created_at >= created_after)
    if created_before:
        query = query.where(FormSubmission.created_at < created_before)
    if before:
        at, ident = before
        query = query.where(
            (col(FormSubmission.created_at) < at)
            | ((col(FormSubmission.created_at) == at) & (col(FormSubmission.id) < ident))
        )
    query = query.order_by(col(FormSubmission.created_at).desc(), col(FormSubmission.id).desc())
    return session.exec(query.offset(offset).limit(limit)).all()


def submission_of_run(session: Session, run_id: str) -> tuple[FormSubmission, Form] | None:
    """The public-form submission that started `run_id`, with its form."""
    query = (select(FormSubmission, Form).join(Form, col(Form.id) == col(FormSubmission.form_id))
             .where(FormSubmission.run_id == run_id))
    found = session.exec(query).first()
    return (found[0], found[1]) if found is not None else None


def latest_version(session: Session, form_id: str) -> FormVersion | None:
    query = (select(FormVersion).where(FormVersion.form_id == form_id)
             .order_by(col(FormVersion.number).desc()))
    return session.exec(query.limit(1)).first()


def get_version(session: Session, form_id: str, number: int) -> FormVersion | None:
    query = select(FormVersion).where(FormVersion.form_id == form_id,
                                      FormVersion.number == number)
    return session.exec(query).first()


def list_versions(session: Session, form_id: str) -> Sequence[FormVersion]:
    query = (select(FormVersion).where(FormVersion.form_id == form_id)
             .order_by(col(FormVersion.number).desc()))
    return session.exec(query).all()
