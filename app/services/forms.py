"""Form use cases: build forms, publish them, and take submissions that start runs."""

from __future__ import annotations

import re
import secrets
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from app.clock import utcnow
from app.engine.definition import input_fields
from app.engine.fields import FieldSpec, validate_data
from app.engine.progress import definition_of_version
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Form, FormSubmission, Trigger
from app.repo import audit, events, workflows
from app.repo import forms as forms_repo
from app.services.runs import start_new_run

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")


def parse_fields(raw: Any) -> list[FieldSpec]:
    if not isinstance(raw, list):
        raise ValidationFailed("Invalid fields", errors=[FieldError("fields", "must be a list")])
    problems: list[FieldError] = []
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        try:
            spec = FieldSpec.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                problems.append(FieldError(f"fields[{index}].{where}", err["msg"]))
            continue
        if spec.type == "select" and not spec.options:
            problems.append(FieldError(f"fields[{index}].options", "a select needs options"))
        if spec.name.casefold() in seen:
            problems.append(FieldError(f"fields[{index}].name", f"duplicate name '{spec.name}'"))
        seen.add(spec.name.casefold())
        specs.append(spec)
    if problems:
        raise ValidationFailed("The form's fields are invalid", errors=problems)
    return specs


def _slugify(title: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "form"
    return f"{base}-{secrets.token_hex(3)}"


def _check_slug(session: Session, slug: str, *, own_id: str | None = None) -> str:
    if not SLUG_RE.match(slug):
        raise ValidationFailed("Invalid slug", errors=[FieldError(
            "slug", "use 3-80 lowercase letters, digits and dashes")])
    holder = forms_repo.form_id_with_slug(session, slug)
    if holder is not None and holder != own_id:
        raise Conflict(f"the slug '{slug}' is taken")
    return slug


def _check_workflow(session: Session, workspace_id: str, workflow_id: str | None) -> None:
    if workflow_id is not None and workflows.get_workflow(session, workflow_id,
                                              workspace_id=workspace_id) is None:
        raise ValidationFailed("Unknown workflow", errors=[FieldError(
            "workflow_id", f"workflow '{workflow_id}' was not found")])


def create_form(session: Session, *, workspace_id: str, actor: Actor, title: str,
                fields: Any, description: str = "", workflow_id: str | None = None,
                slug: str | None = None, field_map: dict[str, str] | None = None,
                is_published: bool = False, success_message: str | None = None) -> Form:
    if not (title or "").strip():
        raise ValidationFailed("Invalid form", errors=[FieldError("title", "is required",
                                                                  "required")])
    specs = parse_fields(fields)
    _check_workflow(session, workspace_id, workflow_id)
    form = Form(workspace_id=workspace_id, title=title.strip(), description=description or "",
                fields=[s.model_dump(exclude_none=True) for s in specs],
                slug=_check_slug(session, slug) if slug else _slugify(title),
                workflow_id=workflow_id, field_map=field_map or {}, is_published=is_published,
                created_by=actor.display)
    if success_message:
        form.success_message = success_message
    session.add(form)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="form.created",
                 resource_type="form", resource_id=form.id)
    session.commit()
    return form


def update_form(session: Session, *, workspace_id: str, form_id: str, actor: Actor,
                expected_version: int | None = None, **changes: Any) -> Form:
    form = forms_repo.get_form(session, form_id, workspace_id=workspace_id)
    if form is None:
        raise not_found("form", form_id)
    if expected_version is not None and expected_version != form.version:
        raise Conflict(f"form '{form_id}' is at version {form.version}, not {expected_version}",
                       extra={"current_version": form.version})
    if "title" in changes and changes["title"] is not None:
        if not str(changes["title"]).strip():
            raise ValidationFailed("Invalid form", errors=[FieldError("title", "is required")])
        form.title = str(changes["title"]).strip()
    if changes.get("fields") is not None:
        form.fields = [s.model_dump(exclude_none=True) for s in parse_fields(changes["fields"])]
    if "workflow_id" in changes:
        _check_workflow(session, workspace_id, changes["workflow_id"])
        form.workflow_id = changes["workflow_id"]
    if changes.get("slug") is not None:
        form.slug = _check_slug(session, changes["slug"], own_id=form.id)
    for name in ("description", "field_map", "is_published", "success_message"):
        if changes.get(name) is not None:
            setattr(form, name, changes[name])
    form.version += 1
    form.updated_at = utcnow()
    session.add(form)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="form.updated",
                 resource_type="form", resource_id=form.id)
    session.commit()
    return form


def delete_form(session: Session, *, workspace_id: str, form_id: str, actor: Actor) -> None:
    form = forms_repo.get_form(session, form_id, workspace_id=workspace_id)
    if form is None:
        raise not_found("form", form_id)
    form.deleted_at = utcnow()
    form.is_published = False
    session.add(form)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="form.deleted",
                 resource_type="form", resource_id=form.id)
    session.commit()


def mismatched_fields(session: Session, form: Form) -> list[str]:
    """Warnings where the form's fields and its workflow's input fields disagree."""
    if not form.workflow_id:
        return []
    workflow = workflows.get_workflow(session, form.workflow_id)
    if workflow is None or workflow.published_number is None:
        return ["the workflow has no published version yet"]
    version = workflows.get_version_by_number(session, workflow.id, workflow.published_number)
    assert version is not None
    wanted = {f.name: f for f in input_fields(definition_of_version(session, version.id))}
    mapped = {form.field_map.get(f["name"], f["name"]) for f in form.fields}
    problems = [f"the workflow needs '{name}', which no form field supplies"
                for name, spec in wanted.items() if spec.required and name not in mapped]
    problems += [f"the form field '{name}' is not a workflow input" for name in sorted(mapped)
                 if name not in wanted]
    return problems


def submit_form(session: Session, *, form: Form, data: Any, actor: Actor) -> FormSubmission:
    """Validate a submission, store it and start the form's workflow, all in one transaction."""
    if not isinstance(data, dict):
        raise ValidationFailed("Invalid submission", errors=[FieldError("data",
                                                                        "must be an object")])
    specs = [FieldSpec.model_validate(f) for f in form.fields]
    clean, problems = validate_data(specs, data)
    if problems:
        raise ValidationFailed("Please correct the highlighted fields", errors=problems)
    submission = FormSubmission(workspace_id=form.workspace_id, form_id=form.id, data=clean)
    if form.workflow_id:
        run_input = {form.field_map.get(name, name): value for name, value in clean.items()}
        run = start_new_run(session, workspace_id=form.workspace_id,
                            workflow_id=form.workflow_id, input=run_input, actor=actor,
                            trigger=Trigger.FORM)
        submission.run_id = run.id
    session.add(submission)
    events.emit(session, type="form.submitted", workspace_id=form.workspace_id,
                run_id=submission.run_id, workflow_id=form.workflow_id,
                data={"form_id": form.id, "submission_id": submission.id,
                      "form_title": form.title, "data": clean})
    audit.record(session, workspace_id=form.workspace_id, actor=actor, action="form.submitted",
                 resource_type="form_submission", resource_id=submission.id,
                 details={"form_id": form.id, "run_id": submission.run_id})
    session.commit()
    return submission


def public_form(session: Session, *, slug: str) -> Form:
    """A form by its public slug; unpublished forms are reported as such (409)."""
    form = forms_repo.form_by_slug(session, slug)
    if form is None:
        raise not_found("form", slug)
    if not form.is_published:
        raise Conflict("This form is not accepting responses")
    return form


def submit_form_in_workspace(session: Session, *, workspace_id: str, form_id: str, data: Any,
                             actor: Actor) -> FormSubmission:
    """A submission through the API: the key's own workspace, published or not (the owner
    may test a draft form), otherwise exactly like a public submission."""
    form = forms_repo.get_form(session, form_id, workspace_id=workspace_id)
    if form is None:
        raise not_found("form", form_id)
    return submit_form(session, form=form, data=data, actor=actor)
