"""The signed approval link's two small HTML pages, as plain FastAPI routes.

GET shows who is deciding what and a form; it never changes anything, so link previews,
mail scanners and prefetchers cannot approve. Only the form's POST decides. Plain routes (not
a Reflex page) make that guarantee structural and work without JavaScript or a websocket.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from app.db import read_session, write_session
from app.errors import DomainError
from app.services import approval_links
from app.ui import routes

MAX_FORM_BYTES = 16_384
MAX_COMMENT = 2000

router = APIRouter(include_in_schema=False)
_env = Environment(autoescape=True)


def _when(value: str) -> str:
    """'2026-01-31T09:05:00.000Z' → '2026-01-31 09:05 UTC' (the page has no script)."""
    return f"{value[:10]} {value[11:16]} UTC" if len(value) >= 16 else value


_env.filters["when"] = _when

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
 textarea{width:100%;box-sizing:border-box;min-height:80px;font:inherit;padding:8px;
          border:1px solid #cdced6;border-radius:6px}
 .actions{display:flex;gap:8px;flex-wrap:wrap;margin-top:12px}
 button{font:inherit;font-weight:600;border:0;border-radius:6px;padding:10px 18px;cursor:pointer}
 .approve{background:#30a46c;color:#fff}.reject{background:#e5484d;color:#fff}
</style></head>
<body><main>
<p class="muted">Flowdesk approval</p>
<h1>{{ heading }}</h1>
{% if message %}<div class="box {{ tone }}" role="status">{{ message }}</div>{% endif %}
{% if view %}
 <p><strong>{{ view.workflow_title }}</strong></p>
 {% if view.instructions %}<p>{{ view.instructions }}</p>{% endif %}
 {% if view.due_at %}<p class="muted">Due {{ view.due_at | when }}</p>{% endif %}
 {% if view.run_input %}<p class="muted">Run input</p><pre>{{ view.run_input }}</pre>{% endif %}
 {% if view.earlier_outputs %}<p class="muted">Earlier steps</p>
   <pre>{{ view.earlier_outputs }}</pre>{% endif %}
 {% if view.state == "open" and show_form %}
  <form method="post" action="">
   <p class="muted">You are deciding as <strong>{{ view.approver_email }}</strong>.
    Nothing happens until you press a button.</p>
   <label for="comment" class="muted">Comment (optional)</label>
   <textarea id="comment" name="comment" maxlength="{{ max_comment }}"></textarea>
   <div class="actions">
    <button class="approve" type="submit" name="decision" value="approved">Approve</button>
    <button class="reject" type="submit" name="decision" value="rejected">Reject</button>
   </div>
  </form>
 {% elif view.state == "decided" %}
  <p class="muted">{{ view.status | capitalize }} by {{ view.decided_by }} on
   {{ view.decided_at | when }}{% if view.comment %}: “{{ view.comment }}”{% endif %}</p>
 {% endif %}
{% endif %}
</main></body></html>""")


def _page(status: int, heading: str, *, view: approval_links.LinkView | None = None,
          message: str = "", tone: str = "info", show_form: bool = False) -> HTMLResponse:
    body = _PAGE.render(heading=heading, view=view, message=message, tone=tone,
                        show_form=show_form, max_comment=MAX_COMMENT)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def _inspect(token: str) -> approval_links.LinkView:
    with read_session() as session:
        return approval_links.inspect_link(session, token=token)


def _decide(token: str, decision: str, comment: str | None) -> approval_links.LinkView:
    with write_session() as session:
        approval_links.decide_by_link(session, token=token, decision=decision, comment=comment)
    return _inspect(token)


def _closed_message(view: approval_links.LinkView) -> str:
    if view.state == "cancelled":
        return "This approval was cancelled (the run was stopped); nothing is left to decide."
    return f"This link was already used: the approval was {view.status} by {view.decided_by}."


@router.get(routes.APPROVAL_LINK_PREFIX + "/{token}")
async def show_approval_link(token: str) -> HTMLResponse:
    try:
        view = await run_in_threadpool(_inspect, token)
    except DomainError as exc:
        return _page(exc.status, "This link cannot be used", message=str(exc), tone="bad")
    if view.state != "open":
        return _page(200, "Nothing left to decide", view=view, message=_closed_message(view))
    return _page(200, "Approve or reject", view=view, show_form=True)


@router.post(routes.APPROVAL_LINK_PREFIX + "/{token}")
async def decide_approval_link(token: str, request: Request) -> HTMLResponse:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return _page(413, "This link cannot be used", message="The form is too large",
                     tone="bad")
    form = parse_qs(raw.decode("utf-8", errors="replace"))
    decision = (form.get("decision") or [""])[0]
    comment = ((form.get("comment") or [""])[0].strip()[:MAX_COMMENT]) or None
    try:
        view = await run_in_threadpool(_decide, token, decision, comment)
    except DomainError as exc:
        try:
            view = await run_in_threadpool(_inspect, token)
        except DomainError:
            view = None
        return _page(exc.status, "Your decision was not recorded", view=view, message=str(exc),
                     tone="bad")
    word = "approved" if view.status == "approved" else "rejected"
    return _page(200, f"You {word} it", view=view, tone="ok",
                 message=f"Recorded: {view.status} by {view.decided_by}. You can close this page.")
