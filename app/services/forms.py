"""Form use cases: build forms, publish them, and take submissions that start runs."""

from __future__ import annotations

import re
import secrets
from collections import Counter
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from app.clock import utcnow
from app.engine.definition import input_fields
from app.engine.fields import FieldSpec, field_list_problems, file_ids, validate_data
from app.engine.progress import definition_of_version
from app.errors import Conflict, FieldError, ValidationFailed, not_found
from app.models import Actor, Form, FormSubmission, FormVersion, Trigger
from app.repo import audit, events, workflows
from app.repo import forms as forms_repo
from app.services import files
from app.services.runs import start_new_run

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")


MAX_PAGES = 50
MAX_FILE_FIELDS_PER_PAGE = 10


def parse_fields(raw: Any, *, pages: int = 0) -> list[FieldSpec]:
    """Field specs from JSON, listed page by page (a stable sort on `page`, so a field moved
    to another page follows its page). `pages`: how many pages the form has (0: one)."""
    if not isinstance(raw, list):
        raise ValidationFailed("Invalid fields", errors=[FieldError("fields", "must be a list")])
    problems: list[FieldError] = []
    specs: list[FieldSpec] = []
    for index, item in enumerate(raw):
        try:
            spec = FieldSpec.model_validate(item)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"])
                message = str(err["msg"]).removeprefix("Value error, ")
                problems.append(FieldError(f"fields[{index}]{'.' + where if where else ''}",
                                           message))
            continue
        if (spec.page or 1) > max(pages, 1):
            problems.append(FieldError(f"fields[{index}].page",
                                       f"the form has {max(pages, 1)} page(s)"))
        specs.append(spec)
    if problems:
        raise ValidationFailed("The form's fields are invalid", errors=problems)
    order = sorted(range(len(specs)), key=lambda i: specs[i].page or 1)  # stable
    specs = [specs[i] for i in order]
    per_page = Counter(spec.page or 1 for spec in specs if spec.type == "file")
    problems = [FieldError("fields", f"page {page} has {count} file fields; a page takes at "
                                     f"most {MAX_FILE_FIELDS_PER_PAGE}")
                for page, count in sorted(per_page.items())
                if count > MAX_FILE_FIELDS_PER_PAGE]
    problems += [FieldError(f"fields[{order[i]}].{prop}", message)  # the index as sent
                 for i, prop, message in field_list_problems(specs)]
    if problems:
        raise ValidationFailed("The form's fields are invalid", errors=problems)
    return specs


def parse_pages(raw: Any) -> list[dict[str, str]]:
    """[{"title", "description"}] for a multi-page form; [] for a one-page one."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_PAGES:
        raise ValidationFailed("Invalid pages", errors=[FieldError(
            "pages", f"must be a list of at most {MAX_PAGES} pages")])
    pages, problems = [], []
    for index, page in enumerate(raw):
        title = page.get("title") if isinstance(page, dict) else None
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            problems.append(FieldError(f"pages[{index}].title", "is required (1-200 characters)"))
            continue
        description = page.get("description") or ""
        if not isinstance(description, str) or len(description) > 2000:
            problems.append(FieldError(f"pages[{index}].description",
                                       "must be text of at most 2000 characters"))
            continue
        pages.append({"title": title.strip(), "description": description})
    if problems:
        raise ValidationFailed("The form's pages are invalid", errors=problems)
    return pages


def _dump(specs: list[FieldSpec]) -> list[dict[str, Any]]:
    return [s.model_dump(exclude_none=True) for s in specs]


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
                is_published: bool = False, success_message: str | None = None,
                pages: Any = None) -> Form:
    if not (title or "").strip():
        raise ValidationFailed("Invalid form", errors=[FieldError("title", "is required",
                                                                  "required")])
    page_list = parse_pages(pages)
    specs = parse_fields(fields, pages=len(page_list))
    _check_workflow(session, workspace_id, workflow_id)
    form = Form(workspace_id=workspace_id, title=title.strip(), description=description or "",
                fields=_dump(specs), pages=page_list,
                slug=_check_slug(session, slug) if slug else _slugify(title),
                workflow_id=workflow_id, field_map=field_map or {}, created_by=actor.display)
    if success_message:
        form.success_message = success_message
    session.add(form)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="form.created",
                 resource_type="form", resource_id=form.id)
    if is_published:
        _publish(session, form, actor)
    session.commit()
    return form


def update_form(session: Session, *, workspace_id: str, form_id: str, actor: Actor,
                expected_version: int | None = None, **changes: Any) -> Form:
    """Change the form's draft. The public page keeps serving the published version until
    the form is published again (`is_published: true` publishes the draft as it is now;
    `false` closes the form)."""
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
    if changes.get("pages") is not None:
        form.pages = parse_pages(changes["pages"])
    if changes.get("fields") is not None or changes.get("pages") is not None:
        fields = changes["fields"] if changes.get("fields") is not None else form.fields
        form.fields = _dump(parse_fields(fields, pages=len(form.pages or [])))
    if "workflow_id" in changes:
        _check_workflow(session, workspace_id, changes["workflow_id"])
        form.workflow_id = changes["workflow_id"]
    if changes.get("slug") is not None:
        form.slug = _check_slug(session, changes["slug"], own_id=form.id)
    for name in ("description", "field_map", "success_message"):
        if changes.get(name) is not None:
            setattr(form, name, changes[name])
    form.version += 1
    form.updated_at = utcnow()
    session.add(form)
    audit.record(session, workspace_id=workspace_id, actor=actor, action="form.updated",
                 resource_type="form", resource_id=form.id)
    if changes.get("is_published") is True:
        _publish(session, form, actor)
    elif changes.get("is_published") is False:
        form.is_published = False
    session.commit()
    return form


_SNAPSHOT = ("title", "description", "fields", "pages", "workflow_id", "field_map",
             "success_message")


def _snapshot(row: Form | FormVersion) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _SNAPSHOT}


def has_unpublished_changes(session: Session, form: Form) -> bool:
    """True when the draft differs from the published version (or nothing is published)."""
    if form.published_version is None:
        return True
    live = forms_repo.get_version(session, form.id, form.published_version)
    return live is None or _snapshot(live) != _snapshot(form)


def _publish(session: Session, form: Form, actor: Actor) -> None:
    """Open the form with its draft as the served version: a new immutable version unless
    the latest one already holds exactly this draft."""
    latest = forms_repo.latest_version(session, form.id)
    if latest is None or _snapshot(latest) != _snapshot(form):
        number = (latest.number if latest else 0) + 1
        session.add(FormVersion(workspace_id=form.workspace_id, form_id=form.id, number=number,
                                created_by=actor.display, **_snapshot(form)))
        audit.record(session, workspace_id=form.workspace_id, actor=actor,
                     action="form.published", resource_type="form", resource_id=form.id,
                     details={"version": number})
    else:
        number = latest.number
    form.is_published, form.published_version = True, number
    session.add(form)


def publish_form(session: Session, *, workspace_id: str, form_id: str, actor: Actor) -> Form:
    form = forms_repo.get_form(session, form_id, workspace_id=workspace_id)
    if form is None:
        raise not_found("form", form_id)
    _publish(session, form, actor)
    form.version += 1
    form.updated_at = utcnow()
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
    for field in form.fields:
        target = wanted.get(form.field_map.get(field["name"], field["name"]))
        if target is None:
            continue
        if target.required and (field.get("show_if") or not field.get("required")):
            problems.append(f"the workflow requires '{target.name}', but the form field "
                            f"'{field['name']}' may be left out (optional or conditional)")
        if (field.get("type") == "file") != (target.type == "file"):
            problems.append(f"the form field '{field['name']}' is {field.get('type', 'text')}"
                            f" but the workflow input '{target.name}' is {target.type}")
    return problems


def served(session: Session, form: Form) -> Form | FormVersion:
    """What a submission is validated against: the published version, or the draft of a
    form never published (the owner testing it through the API)."""
    if form.published_version is not None:
        version = forms_repo.get_version(session, form.id, form.published_version)
        if version is not None:
            return version
    return form


def submit_form(session: Session, *, form: Form, data: Any, actor: Actor,
                uploaded_by: str | None = None) -> FormSubmission:
    """Validate a submission against the served version, store it pinned to that version and
    start the form's workflow, all in one transaction. `uploaded_by`: file fields take only
    files this uploader sent and nothing references yet (the anonymous public page)."""
    if not isinstance(data, dict):
        raise ValidationFailed("Invalid submission", errors=[FieldError("data",
                                                                        "must be an object")])
    shown = served(session, form)
    specs = [FieldSpec.model_validate(f) for f in shown.fields]
    lookup = files.lookup(session, workspace_id=form.workspace_id,
                          file_ids=file_ids(specs, data), uploaded_by=uploaded_by)
    clean, problems = validate_data(specs, data, files=lookup)
    if problems:
        raise ValidationFailed("Please correct the highlighted fields", errors=problems)
    number = shown.number if isinstance(shown, FormVersion) else None
    submission = FormSubmission(workspace_id=form.workspace_id, form_id=form.id, data=clean,
                                form_version=number)
    if shown.workflow_id:
        run_input = {shown.field_map.get(name, name): value for name, value in clean.items()}
        run = start_new_run(session, workspace_id=form.workspace_id,
                            workflow_id=shown.workflow_id, input=run_input, actor=actor,
                            trigger=Trigger.FORM)
        submission.run_id = run.id
    session.add(submission)
    files.attach(session, specs, clean, submission_id=submission.id)
    events.emit(session, type="form.submitted", workspace_id=form.workspace_id,
                run_id=submission.run_id, workflow_id=shown.workflow_id,
                data={"form_id": form.id, "submission_id": submission.id,
                      "form_version": number, "form_title": shown.title, "data": clean})
    audit.record(session, workspace_id=form.workspace_id, actor=actor, action="form.submitted",
                 resource_type="form_submission", resource_id=submission.id,
                 details={"form_id": form.id, "run_id": submission.run_id,
                          "form_version": number})
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
