"""The MCP server over streamable HTTP at /mcp, on the app's own port (mounted on Reflex's
backend by app/app.py, beside the REST API).

Each request must carry an API key (`Authorization: Bearer <key>` or `X-Api-Key`), resolved
as the REST API resolves it: 401 without a live key, 403 from an address outside the key's
allow-list; each tool then checks its own scope. The server is stateless (every POST stands
alone, answered as JSON), so it works the same behind several web processes, and a key's
revocation holds from its next call. The SDK's session manager runs in the app's lifespan
(`McpEndpoint.lifespan`, a Reflex lifespan task); until it runs, /mcp answers 503.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from slowapi import Limiter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

from app.errors import DomainError, Unauthorized
from app.mcp.server import Ctx, build_server
from app.services.api_access import KeyGrant, grant_of_secret, secret_of

MCP_PATH = "/mcp"
GRANT_SCOPE_KEY = "flowdesk.mcp.grant"  # where the request's resolved key travels to the tools
MISSING_KEY = ("An API key is required: send 'Authorization: Bearer <key>' (or "
               "'X-Api-Key: <key>')")


def _resolve(headers: Headers) -> KeyGrant:
    """Blocking: the request's key grant, or the DomainError refusing it."""
    secret = secret_of(headers)
    if secret is None:
        raise Unauthorized(MISSING_KEY)
    return grant_of_secret(secret)


def grant_of_request(ctx: Ctx) -> KeyGrant:
    """The key of the HTTP request behind a tool call (resolved by McpEndpoint)."""
    request = ctx.request_context.request
    grant = getattr(request, "scope", {}).get(GRANT_SCOPE_KEY) if request is not None else None
    if not isinstance(grant, KeyGrant):
        raise Unauthorized(MISSING_KEY)
    return grant


def _refusal(exc: DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer realm="flowdesk"'} if exc.status == 401 else None
    return JSONResponse({"error": exc.code, "detail": str(exc), "status": exc.status},
                        status_code=exc.status, headers=headers)


class McpEndpoint:
    """The ASGI app at /mcp: authenticate the key, then hand the request to the session
    manager of the running lifespan."""

    def __init__(self, limiter: Limiter | None = None) -> None:
        self.limiter = limiter
        self._manager: StreamableHTTPSessionManager | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncIterator[None]:
        """Run a fresh session manager for the app's lifetime (a manager runs only once:
        a restarted lifespan, as in dev's hot reload, gets a new one)."""
        server = build_server(grant_of_request, self.limiter)
        # host is not loopback: the SDK would otherwise only admit Host headers of
        # 127.0.0.1/localhost. Every request is authenticated by its key instead.
        server.streamable_http_app(stateless_http=True, json_response=True, host="0.0.0.0")
        manager = server.session_manager
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager
        if manager is None:
            await JSONResponse({"error": "UNAVAILABLE", "detail": "The MCP server is starting",
                                "status": 503}, status_code=503)(scope, receive, send)
            return
        try:
            grant = await run_in_threadpool(_resolve, Headers(scope=scope))
            client = scope.get("client")
            grant.check_address(client[0] if client else None)
        except DomainError as exc:
            await _refusal(exc)(scope, receive, send)
            return
        # The user binds any session to the key (the SDK compares it); the token field holds
        # the key's prefix, never its secret.
        user = AuthenticatedUser(AccessToken(token=grant.prefix, client_id=grant.key_id,
                                             scopes=sorted(grant.scopes)))
        await manager.handle_request({**scope, GRANT_SCOPE_KEY: grant, "user": user},
                                     receive, send)


class McpRoute(BaseRoute):
    """Matches /mcp (and /mcp/) exactly, before Reflex's catch-all mount."""

    def __init__(self, endpoint: McpEndpoint) -> None:
        self.endpoint = endpoint

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope.get("path", "").rstrip("/") == MCP_PATH:
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(scope, receive, send)


def mount_mcp(api: Any) -> McpEndpoint:
    """Serve /mcp from `api` (the FastAPI app Reflex mounts itself in; its limiter counts
    the calls, so a key's buckets are the same on both); register the returned endpoint's
    `lifespan` as a lifespan task of the app."""
    endpoint = McpEndpoint(getattr(api.state, "limiter", None))
    api.router.routes.insert(0, McpRoute(endpoint))
    return endpoint
