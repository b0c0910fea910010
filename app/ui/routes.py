"""Every page route and the URL builders the pages link with (one place to rename a path)."""

from __future__ import annotations

from urllib.parse import quote, unquote, urlencode

from app.services.approval_links import LINK_PATH, link_url

SIGN_IN = "/sign-in"
DASHBOARD = "/"
WORKFLOWS = "/workflows"
FORMS = "/forms"
RUNS = "/runs"
RUN = "/runs/[run_id]"
APPROVALS = "/approvals"
SETTINGS = "/settings"
SETTINGS_API_KEYS = "/settings/api-keys"
SETTINGS_WEBHOOKS = "/settings/webhooks"
SETTINGS_CREDENTIALS = "/settings/credentials"
SETTINGS_MEMBERS = "/settings/members"
SETTINGS_NOTIFICATIONS = "/settings/notifications"
# Served by plain FastAPI routes (not Reflex pages) so that a GET can never decide.
APPROVAL_LINK_PREFIX = LINK_PATH
PUBLIC_FORM_PREFIX = "/f"

# Pages reachable without a session (the guard never redirects from these).
PUBLIC_PREFIXES = (SIGN_IN, APPROVAL_LINK_PREFIX + "/", PUBLIC_FORM_PREFIX + "/")


def run_url(run_id: str) -> str:
    return f"{RUNS}/{quote(run_id, safe='')}"


def runs_url(**filters: str) -> str:
    query = urlencode({k: v for k, v in filters.items() if v})
    return f"{RUNS}?{query}" if query else RUNS


def approval_link_url(token: str, base_url: str = "") -> str:
    return link_url(token, base_url)


def sign_in_url(next_path: str | None = None) -> str:
    if not next_path or next_path.startswith(SIGN_IN) or not next_path.startswith("/"):
        return SIGN_IN
    return f"{SIGN_IN}?{urlencode({'next': next_path})}"


def safe_next(next_path: str | None) -> str:
    """Only a local path may follow sign-in (no open redirect to another site)."""
    if not next_path or not next_path.startswith("/") or next_path.startswith("//"):
        return DASHBOARD
    if next_path.startswith(SIGN_IN) or "\\" in next_path:
        return DASHBOARD
    return next_path


# ----- building: workflows, forms, public forms -----
WORKFLOW = "/workflows/[workflow_id]"
WORKFLOW_SCHEDULES = "/workflows/[workflow_id]/schedules"
FORM = "/forms/[form_id]"
FORM_SUBMISSIONS = "/forms/[form_id]/submissions"
PUBLIC_FORM = "/f/[slug]"


def workflow_url(workflow_id: str) -> str:
    return f"{WORKFLOWS}/{quote(workflow_id, safe='')}"


def workflow_schedules_url(workflow_id: str) -> str:
    return f"{workflow_url(workflow_id)}/schedules"


def form_url(form_id: str) -> str:
    return f"{FORMS}/{quote(form_id, safe='')}"


def form_submissions_url(form_id: str) -> str:
    return f"{form_url(form_id)}/submissions"


def public_form_url(slug: str, base_url: str = "") -> str:
    return f"{base_url.rstrip('/')}{PUBLIC_FORM_PREFIX}/{quote(slug, safe='')}"


def path_segment(path: str, from_end: int = 1) -> str:
    """The `from_end`-th segment from the end of a page's path, decoded as the route's own
    argument var (`rx.State.<arg>`) is: a page compares the two to show only what it loaded
    for its current address, never what the tab showed at the previous one."""
    parts = str(path).rstrip("/").split("/")
    return unquote(parts[-from_end]) if len(parts) > from_end else ""
