"""The MCP server's tools and resources. Each call takes the caller's API key from its
transport (`Access`), checks the scope the REST route of the same call requires, and answers
through app/mcp/answers.py; a refusal (a missing scope, a bad argument, an approval policy's
no) is a tool error whose text names its code and reason."""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedToolError,
)
from mcp_types import ToolAnnotations
from pydantic import Field, ValidationError
from slowapi import Limiter

from app.api.limits import new_limiter, take
from app.api.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT
from app.api.waiting import MAX_WAIT_S, wait_until_settled
from app.errors import DomainError, NotFound, RateLimited
from app.mcp import answers
from app.models import Actor, RunStatus
from app.services.api_access import KeyGrant
from app.settings import get_settings

SERVER_NAME = "flowdesk"
INSTRUCTIONS = (
    "Flowdesk runs forms, workflows and approvals. Find a workflow with list_workflows, read "
    "its input_schema with describe_workflow, start it with trigger_run (wait_seconds to see "
    "where it settles), follow it with get_run_timeline. list_pending_approvals shows what "
    "waits for a decision; decide_approval votes (the step's policy may refuse, and says why). "
    "Every call acts with the API key's workspace and scopes.")

T = TypeVar("T")

Id = Annotated[str, Field(min_length=1, max_length=200)]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Items per page.")]
Cursor = Annotated[str | None, Field(max_length=MAX_CURSOR_LENGTH, description=(
    "next_cursor of the previous page; omit it for the first page."))]
Search = Annotated[str | None, Field(max_length=200, description="Part of the title or id.")]
Assignee = Annotated[str | None, Field(
    max_length=320, pattern=r'^(role:[A-Za-z0-9_.-]+|[^\s"\\,]+@[^\s"\\,]+)$',
    description="Only items assigned to this member's email, or to `role:<name>`; omit it "
                "for every pending approval of the workspace (the key may decide them all).")]
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)


@dataclass(frozen=True)
class Access:
    """How a call finds its API key: the HTTP request's (app/mcp/http.py) or stdio's
    FLOWDESK_API_KEY (app/mcp/__main__.py). `grant_of` is blocking (it may read the
    database) and raises a DomainError for a missing or refused key. Each call counts
    against the key's REST buckets (a `:write` scope's call as a write), in `limiter`."""

    grant_of: Callable[[Any], KeyGrant]
    limiter: Limiter

    def actor(self, ctx: Any, scope: str, *, count: bool = True) -> Actor:
        grant = self.grant_of(ctx)
        if count:
            self._count(grant, "write" if scope.endswith(":write") else "read")
        grant.check_scopes((scope,))
        return grant.actor()

    def _count(self, grant: KeyGrant, bucket: str) -> None:
        verdict = take(self.limiter, bucket=bucket, identity=f"key:{grant.key_id}",
                       caller=grant)
        if not verdict.allowed:
            retry_after = max(1, math.ceil(verdict.reset_at - time.time()))
            raise RateLimited(f"Rate limit of {verdict.limit} {bucket} requests per minute "
                              f"exceeded; retry in {retry_after} s")


Ctx = Context[Access, Any]  # what a tool is handed: its lifespan context is the Access
GrantOf = Callable[[Ctx], KeyGrant]


def _refusal(exc: DomainError) -> str:
    return f"{exc.code}: {exc}"


def _invalid_arguments(exc: ValidationError) -> str:
    """Pydantic's report of the arguments, in the refusals' own form: each argument named
    with what is wrong, without the values sent or pydantic's links."""
    listed = "; ".join(f"{'.'.join(str(p) for p in error['loc']) or 'arguments'}: "
                       f"{error['msg']}" for error in exc.errors())
    return f"VALIDATION_ERROR: The arguments are invalid ({listed})"


class FlowdeskServer(MCPServer[Access]):
    """MCPServer with argument errors worded like every other refusal."""

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Ctx | None = None) -> Any:
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(exc, UnexpectedToolError) or not isinstance(cause, ValidationError):
                raise
            raise ToolError(f"Error executing tool {name}: {_invalid_arguments(cause)}") from cause


async def _answer(ctx: Ctx, scope: str, answer: Callable[..., T], *, count: bool = True,
                  **arguments: Any) -> T:
    """Authorize the call and run `answer(actor, **arguments)` in a worker thread; `count`
    False for the second half of one call."""
    access = ctx.request_context.lifespan_context

    def work() -> T:
        return answer(access.actor(ctx, scope, count=count), **arguments)

    try:
        return await anyio.to_thread.run_sync(work)
    except DomainError as exc:
        raise ToolError(_refusal(exc)) from None


async def list_workflows(ctx: Ctx,
                         status: Literal["draft", "published"] | None = None,
                         search: Search = None, limit: Limit = DEFAULT_LIMIT,
                         cursor: Cursor = None) -> dict[str, Any]:
    """List the workspace's workflows, newest first (scope workflows:read)."""
    return await _answer(ctx, "workflows:read", answers.list_workflows, status=status,
                         search=search, limit=limit, cursor=cursor)


async def describe_workflow(ctx: Ctx, workflow_id: Id) -> dict[str, Any]:
    """A workflow with its draft definition and `input_schema`: the JSON Schema of the
    `input` trigger_run takes (scope workflows:read)."""
    return await _answer(ctx, "workflows:read", answers.describe_workflow,
                         workflow_id=workflow_id)


async def trigger_run(
    ctx: Ctx, workflow_id: Id,
    input: Annotated[dict[str, Any] | None, Field(description=(
        "Values for the workflow's input fields, by name (see describe_workflow)."))] = None,
    version: Annotated[int | None, Field(ge=1, le=2**31 - 1, description=(
        "A published version number; omit it for the current one."))] = None,
    wait_seconds: Annotated[float, Field(ge=0, le=MAX_WAIT_S, description=(
        "Up to 30 s to wait for the run to leave IN_PROGRESS (complete, block on an approval "
        "or a signal, or flag) before answering."))] = 0,
) -> dict[str, Any]:
    """Start a run of the workflow's published version and answer its timeline (scope
    runs:write)."""
    since = time.monotonic()  # a settle after this is this trigger's run's
    run_id, status = await _answer(ctx, "runs:write", answers.trigger_run,
                                   workflow_id=workflow_id, input=input or {},
                                   version=version)
    if wait_seconds > 0 and status == RunStatus.IN_PROGRESS:
        await wait_until_settled(run_id, wait_seconds, since=since)
    return await _answer(ctx, "runs:write", answers.run_timeline, count=False, run_id=run_id)


async def get_run_timeline(ctx: Ctx, run_id: Id) -> dict[str, Any]:
    """A run with every step in order (input, output, error, timings) and its approvals
    (scope runs:read)."""
    return await _answer(ctx, "runs:read", answers.run_timeline, run_id=run_id)


async def list_pending_approvals(ctx: Ctx, assignee: Assignee = None,
                                 workflow_id: Id | None = None, run_id: Id | None = None,
                                 limit: Limit = DEFAULT_LIMIT,
                                 cursor: Cursor = None) -> dict[str, Any]:
    """Approvals waiting for a decision, newest first, with their policy and the votes cast
    so far (scope runs:read)."""
    return await _answer(ctx, "runs:read", answers.pending_approvals, assignee=assignee,
                         workflow_id=workflow_id, run_id=run_id, limit=limit, cursor=cursor)


async def decide_approval(
    ctx: Ctx, approval_id: Id, decision: Literal["approved", "rejected"],
    comment: Annotated[str | None, Field(max_length=2000, description=(
        "Why; some policies require one to reject."))] = None,
    fields: Annotated[dict[str, Any] | None, Field(description=(
        "Values for the approval's approver fields, by name (see its policy.fields)."))] = None,
) -> dict[str, Any]:
    """Vote to approve or reject. The step's policy (any, all, quorum; whether the requester
    may decide; a comment to reject; approver fields) decides whether the vote counts and when
    the run moves on; a refusal says why (scope approvals:write)."""
    return await _answer(ctx, "approvals:write", answers.decide_approval,
                         approval_id=approval_id, decision=decision, comment=comment,
                         fields=fields)


async def list_forms(ctx: Ctx, search: Search = None, limit: Limit = DEFAULT_LIMIT,
                     cursor: Cursor = None) -> dict[str, Any]:
    """List the workspace's forms with their fields and public links (scope forms:read)."""
    return await _answer(ctx, "forms:read", answers.list_forms, search=search, limit=limit,
                         cursor=cursor)


async def list_form_submissions(ctx: Ctx, form_id: Id, limit: Limit = DEFAULT_LIMIT,
                                cursor: Cursor = None) -> dict[str, Any]:
    """A form's submissions, newest first, with the run each started (scope forms:read)."""
    return await _answer(ctx, "forms:read", answers.list_submissions, form_id=form_id,
                         limit=limit, cursor=cursor)


async def workflow_resource(workflow_id: str, ctx: Ctx) -> str:
    """A workflow with its draft definition, as JSON (scope workflows:read)."""
    access = ctx.request_context.lifespan_context

    def work() -> dict[str, Any]:
        actor = access.actor(ctx, "workflows:read")
        return answers.workflow_definition(actor, workflow_id=workflow_id)

    try:
        return json.dumps(await anyio.to_thread.run_sync(work), indent=2)
    except NotFound as exc:
        raise ResourceNotFoundError(_refusal(exc)) from None
    except DomainError as exc:
        raise ResourceError(_refusal(exc)) from None


TOOLS: list[tuple[Callable[..., Any], ToolAnnotations | None]] = [
    (list_workflows, READ),
    (describe_workflow, READ),
    (trigger_run, ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                  open_world_hint=True)),
    (get_run_timeline, READ),
    (list_pending_approvals, READ),
    (decide_approval, ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                      idempotent_hint=False, open_world_hint=True)),
    (list_forms, READ),
    (list_form_submissions, READ),
]


def build_server(grant_of: GrantOf, limiter: Limiter | None = None) -> FlowdeskServer:
    """The server with every tool and resource; `grant_of` finds each call's key, `limiter`
    counts the calls (the REST API's, to share its buckets; else one of its own)."""
    access = Access(grant_of, limiter or new_limiter(get_settings()))

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer[Access]) -> AsyncIterator[Access]:
        yield access

    server = FlowdeskServer(SERVER_NAME, title="Flowdesk", instructions=INSTRUCTIONS,
                            lifespan=lifespan)
    for tool, hints in TOOLS:
        server.add_tool(tool, annotations=hints)
    server.resource(answers.WORKFLOW_URI, name="workflow", title="Workflow definition",
                    mime_type="application/json")(workflow_resource)
    return server
