"""The signed approval link's small HTML pages, as plain FastAPI routes.

GET shows who is deciding what, the votes so far and a form (the approver fields, a comment);
it never changes anything, so link previews, mail scanners and prefetchers cannot approve.
Only the form's POST votes. Plain routes (not a Reflex page) make that guarantee structural
and work without JavaScript or a websocket.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from app.db import read_session, write_session
from app.errors import DomainError, ValidationFailed
from app.services import approval_links
from app.services.files import size_text
from app.settings import get_settings
from app.ui import routes

MAX_FORM_BYTES = 16_384
MAX_FILE_PARTS = 10
MAX_COMMENT = 2000
FIELD_PREFIX = "field."  # an approver field's form name, apart from `comment` and `decision`
FILE_PREFIX = "file."  # an approver file field's file part (its id, once sent, is field.<name>)
_INPUT_TYPES = {"email": "email", "number": "number", "integer": "number", "date": "date",
                "url": "url"}

router = APIRouter(include_in_schema=False)
_env = Environment(autoescape=True)
_env.filters["when"] = approval_links.readable_time

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
}

_PAGE = _env.from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ heading }} · Flowdesk</title>
<style>
 body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f6f7f9;
      color:#1c2024;margin:0;padding:16px}
 main{max-width:640px;margin:24px auto;background:#fff;border:1px solid #e0e1e6;
      border-radius:12px;padding:24px}
 h1{font-size:22px;margin:0 0 8px} .muted{color:#60646c;font-size:14px}
 pre{background:#f0f0f3;border-radius:6px;padding:8px;font-size:12px;white-space:pre-wrap;
     word-break:break-word;max-height:240px;overflow:auto}
 .box{border-radius:8px;padding:12px;margin:12px 0}
 .ok{background:#e6f6eb;color:#193b2d}.bad{background:#feebec;color:#641723}
 .info{background:#e6f4fe;color:#113264}
 .late{color:#ce2c31;font-weight:600}
 .votes{list-style:none;padding:0;margin:4px 0 0;font-size:14px}
 .votes li{padding:2px 0} .votes .muted{white-space:nowrap}
 fieldset{border:0;background:#f9f9fb;border-radius:8px;padding:12px;margin:12px 0}
 legend{font-size:14px;color:#60646c;padding:0;float:left;width:100%;margin-bottom:8px}
 .field{margin:0 0 12px;clear:both} .field:last-child{margin-bottom:0}
 label{display:block;font-weight:500;font-size:14px;margin-bottom:4px}
 label.check{display:flex;gap:8px;align-items:center;font-weight:500}
 .req{color:#ce2c31}
 .help{color:#60646c;font-size:13px;margin:4px 0 0}
 .error{color:#ce2c31;font-size:13px;margin:4px 0 0;font-weight:500}
 input:not([type=checkbox]),select,textarea{width:100%;box-sizing:border-box;font:inherit;
      padding:8px;border:1px solid #cdced6;border-radius:6px;background:#fff;color:inherit}
 input[type=checkbox]{width:18px;height:18px;margin:0}
 [aria-invalid=true]{border-color:#e5484d !important;outline-color:#e5484d}
 textarea{min-height:80px}
 .actions{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px}
 button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:10px 18px;cursor:pointer}
 .approve{background:#30a46c;color:#fff}.reject{background:#e5484d;color:#fff}
</style></head>
{%- macro attrs(id, name, required, error) -%}
 id="{{ id }}" name="{{ name }}"{% if required %} required aria-required="true"{% endif %}
 {%- if error %} aria-invalid="true" aria-describedby="{{ id }}-error"{% endif %}
 {%- if form and id == form.focus %} autofocus{% endif %}
{%- endmacro -%}
{%- macro control(spec, id, value, error) -%}
 {%- set common = attrs(id, prefix ~ spec.name, spec.required, error) -%}
 {%- if spec.type == "textarea" -%}
  <textarea {{ common }} rows="4"{% if spec.placeholder %} placeholder="{{ spec.placeholder }}"
  {%- endif %}>{{ value }}</textarea>
 {%- elif spec.type == "file" -%}
  {%- if form.labels.get(spec.name) %}<p class="help">Attached: {{ form.labels[spec.name] }}
  (choose another file to replace it)</p>
  <input type="hidden" name="{{ prefix ~ spec.name }}" value="{{ value }}">{% endif %}
  <input type="file" id="{{ id }}" name="{{ file_prefix ~ spec.name }}"
  {%- if error %} aria-invalid="true" aria-describedby="{{ id }}-error"{% endif %}
  {%- if spec.accept %} accept="{{ spec.accept | join(',') }}"{% endif %}>
 {%- elif spec.type == "select" -%}
  <select {{ common }}><option value="">Choose…</option>
  {%- for option in spec.options %}<option value="{{ option }}"
   {%- if option == value %} selected{% endif %}>{{ option }}</option>{% endfor %}</select>
 {%- else -%}
  <input type="{{ input_types.get(spec.type, 'text') }}" {{ common }} value="{{ value }}"
  {%- if spec.type == "number" %} step="any"{% elif spec.type == "integer" %} step="1"{% endif %}
  {%- if spec.placeholder %} placeholder="{{ spec.placeholder }}"{% endif %}>
 {%- endif -%}
{%- endmacro -%}
{%- macro label_text(text, required) -%}
 {{ text }}{% if required %} <span class="req" aria-hidden="true">*</span>{% endif %}
{%- endmacro -%}
{%- macro problem(id, error) -%}
 {%- if error %}<p class="error" id="{{ id }}-error" role="alert">{{ error }}</p>{% endif -%}
{%- endmacro %}
<body><main>
<p class="muted">Flowdesk approval</p>
<h1>{{ heading }}</h1>
{% if message %}<div class="box {{ tone }}" role="status">{{ message }}</div>{% endif %}
{% if view %}
 <p><strong>{{ view.workflow_title }}</strong></p>
 {% if view.instructions %}<p>{{ view.instructions }}</p>{% endif %}
 {% if view.due_at and view.status == "pending" %}<p class="muted">Due {{ view.due_at | when }}
  {%- if view.overdue %} <span class="late">· overdue</span>{% endif %}</p>{% endif %}
 {% if view.progress or view.votes %}<section aria-label="Votes so far">
  <p class="muted">{{ "Votes so far" if view.status == "pending" else "Votes" }}
   {%- if view.progress %}: <strong>{{ view.progress }}</strong>
   {%- endif %}</p>
  {% if view.votes %}<ul class="votes">{% for vote in view.votes %}
   <li>{{ "✓" if vote.decision == "approved" else "✗" }} {{ vote.by }} {{ vote.decision }}
    <span class="muted">{{ vote.at | when }}</span></li>{% endfor %}</ul>{% endif %}
 </section>{% endif %}
 {% if view.run_input %}<p class="muted">Run input</p><pre>{{ view.run_input }}</pre>{% endif %}
 {% if view.earlier_outputs %}<p class="muted">Earlier steps</p>
   <pre>{{ view.earlier_outputs }}</pre>{% endif %}
 {% if view.state == "open" and form %}
  <form method="post" action=""
   {%- if view.fields | selectattr("type", "equalto", "file") | list %}
   enctype="multipart/form-data"{% endif %}>
   <p class="muted">You are deciding as <strong>{{ view.approver_email }}</strong>
    {%- if view.acting_for %}, voting for <strong>{{ view.acting_for }}</strong>
    (delegated to you){% endif %}. Nothing happens until you press a button.</p>
   {% if view.fields %}<fieldset><legend>To approve, fill in</legend>
   {% for spec in view.fields %}{% set id = "field-" ~ loop.index %}
    {%- set error = form.errors.get(spec.name, "") %}
    <div class="field">
    {%- if spec.type == "checkbox" %}
     <label class="check"><input type="checkbox" value="true"
      {{- " " }}{{ attrs(id, prefix ~ spec.name, spec.required, error) }}
      {%- if form.values.get(spec.name) %} checked{% endif %}>
      {{ label_text(spec.label or spec.name, spec.required) }}</label>
    {%- else %}
     <label for="{{ id }}">{{ label_text(spec.label or spec.name, spec.required) }}</label>
     {{ control(spec, id, form.values.get(spec.name, ""), error) }}
    {%- endif %}
     {% if spec.help %}<p class="help">{{ spec.help }}</p>{% endif %}
     {{ problem(id, error) }}
    </div>
   {% endfor %}</fieldset>{% endif %}
   <label for="comment" class="muted">
    {{- label_text("Comment (required to reject)" if view.require_comment_on_reject
                   else "Comment (optional)", false) }}</label>
   <textarea {{ attrs("comment", "comment", false, form.comment_error) }}
    maxlength="{{ max_comment }}">{{ form.comment }}</textarea>
   {{ problem("comment", form.comment_error) }}
   <div class="actions">
    <button class="approve" type="submit" name="decision" value="approved">Approve</button>
    <button class="reject" type="submit" name="decision" value="rejected"
     formnovalidate>Reject</button>
   </div>
  </form>
 {% elif view.state == "voted" %}
  <p class="muted">The approval waits for the other votes; this link has nothing left to do.</p>
 {% elif view.state == "decided" %}
  <p class="muted">{{ view.status | capitalize }} by {{ view.decided_by }} on
   {{ view.decided_at | when }}{% if view.comment %}: “{{ view.comment }}”{% endif %}</p>
  {% if view.my_vote %}<p class="muted">You voted {{ view.my_vote }} on
   {{ view.my_vote_at | when }}.</p>{% endif %}
 {% endif %}
{% endif %}
</main></body></html>""")


@dataclass(frozen=True)
class _Form:
    """What the form shows: the values typed (a checkbox: "true" when ticked), and the
    error next to each named field or the comment."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    comment: str = ""
    comment_error: str = ""
    focus: str = ""  # the id of the first control with an error (autofocus, no script)
    labels: dict[str, str] = field(default_factory=dict)  # a file field's file, once sent


def _page(status: int, heading: str, *, view: approval_links.LinkView | None = None,
          message: str = "", tone: str = "info", form: _Form | None = None) -> HTMLResponse:
    body = _PAGE.render(heading=heading, view=view, message=message, tone=tone, form=form,
                        max_comment=MAX_COMMENT, prefix=FIELD_PREFIX, input_types=_INPUT_TYPES,
                        file_prefix=FILE_PREFIX)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def _blank_form(view: approval_links.LinkView) -> _Form:
    """The form as first shown: each field's default, if it has one."""
    values = {}
    for spec in view.fields:
        if spec.type == "checkbox":
            values[spec.name] = "true" if spec.default is True else ""
        elif spec.default is not None:
            values[spec.name] = str(spec.default)
    return _Form(values=values)


def _typed(view: approval_links.LinkView, form: dict[str, list[str]]) -> dict[str, str]:
    return {spec.name: (form.get(FIELD_PREFIX + spec.name) or [""])[0] for spec in view.fields}


def _field_values(view: approval_links.LinkView, typed: dict[str, str]) -> dict[str, Any]:
    """The approver fields for the vote: as typed, but an unticked checkbox (a browser
    sends nothing for it) is false."""
    return {spec.name: False if spec.type == "checkbox" and not typed[spec.name]
            else typed[spec.name] for spec in view.fields}


def _inspect(token: str) -> approval_links.LinkView:
    with read_session() as session:
        return approval_links.inspect_link(session, token=token)


def _decide(token: str, decision: str, comment: str | None,
            fields: dict[str, Any]) -> approval_links.LinkView:
    with write_session() as session:
        approval_links.decide_by_link(session, token=token, decision=decision, comment=comment,
                                      fields=fields)
    return _inspect(token)


_CLOSED_HEADINGS = {"voted": "You already voted", "handed_on": "Nothing for you to decide",
                    "refused": "This link cannot be used"}


@router.get(routes.APPROVAL_LINK_PREFIX + "/{token}")
async def show_approval_link(token: str) -> HTMLResponse:
    try:
        view = await run_in_threadpool(_inspect, token)
    except DomainError as exc:
        return _page(exc.status, "This link cannot be used", message=str(exc), tone="bad")
    if view.state == "open":
        return _page(200, "Approve or reject", view=view, form=_blank_form(view))
    return _page(403 if view.state == "refused" else 200,
                 _CLOSED_HEADINGS.get(view.state, "Nothing left to decide"), view=view,
                 message=view.note, tone="bad" if view.state == "refused" else "info")


def _invalid(view: approval_links.LinkView, exc: ValidationFailed, typed: dict[str, str],
             comment: str, sent: dict[str, str] | None = None) -> HTMLResponse:
    """The form again, as typed, each problem next to the field it names (422)."""
    labels = {spec.name: spec.label or spec.name for spec in view.fields}
    errors, comment_error, elsewhere = {}, "", []
    for problem in exc.errors:
        name = problem.field.removeprefix("fields.")
        if problem.field.startswith("fields.") and name in labels:
            errors.setdefault(name, _sentence(labels[name], problem.message))
        elif problem.field == "comment":
            comment_error = _sentence("Comment", problem.message)
        else:
            elsewhere.append(f"{problem.field}: {problem.message}")
    message = "; ".join([exc.detail or "Your decision was not recorded", *elsewhere])
    first = next((f"field-{i}" for i, name in enumerate(labels, 1) if name in errors),
                 "comment" if comment_error else "")
    return _page(422, "Your decision was not recorded", view=view, message=message, tone="bad",
                 form=_Form(values=typed, errors=errors, comment=comment,
                            comment_error=comment_error, focus=first,
                            labels=_file_labels(view, typed, sent or {})))


def _file_labels(view: approval_links.LinkView, typed: dict[str, str],
                 sent_now: dict[str, str]) -> dict[str, str]:
    """What each file field holds: this request's file, or one an earlier try sent."""
    earlier = {spec.name: "the file you sent before" for spec in view.fields
               if spec.type == "file" and typed.get(spec.name)}
    return {**earlier, **sent_now}


def _sentence(label: str, message: str) -> str:
    """'must be a whole number' → 'Seats must be a whole number' ('Seats is required' as is)."""
    return message if message[:1].isupper() else f"{label} {message}"


async def _read_form(request: Request) -> tuple[dict[str, list[str]], dict[str, Any]] | None:
    """The form's text values, and its file parts by name (multipart only); None when the
    request is larger than a form with files may be."""
    raw = await request.body()
    is_multipart = request.headers.get("content-type", "").startswith("multipart/form-data")
    limit = MAX_FORM_BYTES + (MAX_FILE_PARTS * get_settings().max_upload_bytes
                              if is_multipart else 0)
    if len(raw) > limit:
        return None
    if not is_multipart:
        return parse_qs(raw.decode("utf-8", errors="replace")), {}
    parsed = await request.form(max_files=MAX_FILE_PARTS, max_fields=200)
    texts: dict[str, list[str]] = {}
    parts: dict[str, Any] = {}
    for key, value in parsed.multi_items():
        if isinstance(value, str):
            texts.setdefault(key, []).append(value)
        elif key.startswith(FILE_PREFIX) and value.filename:
            parts[key.removeprefix(FILE_PREFIX)] = value
    return texts, parts


def _upload(token: str, field_name: str, name: str, data: bytes) -> tuple[str, str]:
    with write_session() as session:
        stored = approval_links.upload_by_link(session, token=token, field_name=field_name,
                                               name=name, data=data)
    return stored.id, f"{stored.name} ({size_text(stored.size)})"


async def _store_files(token: str, parts: dict[str, Any], typed: dict[str, str],
                       labels: dict[str, str]) -> None:
    """Store each file sent; its id becomes the field's value (kept if the vote is refused,
    so the approver does not choose it again)."""
    for name, part in parts.items():
        content = await part.read()
        if content:
            typed[name], labels[name] = await run_in_threadpool(
                _upload, token, name, part.filename, content)


@router.post(routes.APPROVAL_LINK_PREFIX + "/{token}")
async def decide_approval_link(token: str, request: Request) -> HTMLResponse:
    read = await _read_form(request)
    if read is None:
        return _page(413, "This link cannot be used", message="The form is too large",
                     tone="bad")
    form, parts = read
    decision = (form.get("decision") or [""])[0]
    comment = (form.get("comment") or [""])[0].strip()[:MAX_COMMENT]
    try:
        before = await run_in_threadpool(_inspect, token)
    except DomainError as exc:
        return _page(exc.status, "This link cannot be used", message=str(exc), tone="bad")
    typed = _typed(before, form)
    labels: dict[str, str] = {}
    try:
        await _store_files(token, parts, typed, labels)
        view = await run_in_threadpool(_decide, token, decision, comment or None,
                                       _field_values(before, typed))
    except ValidationFailed as exc:
        return _invalid(before, exc, typed, comment, labels)
    except DomainError as exc:
        try:
            after: approval_links.LinkView | None = await run_in_threadpool(_inspect, token)
        except DomainError:
            after = None
        return _page(exc.status, "Your decision was not recorded", view=after,
                     message=str(exc), tone="bad")
    word = "approved" if decision == "approved" else "rejected"
    if view.state == "voted":
        waits = f"{view.progress} so far; " if view.progress else ""
        message = (f"Your vote is recorded: {word}. {waits}the approval waits for the other "
                   "votes. You can close this page.")
    else:
        message = f"Recorded: {view.status} by {view.decided_by}. You can close this page."
    return _page(200, f"You {word} it", view=view, tone="ok", message=message)
