"""The public REST API: one FastAPI app whose routes all live under /api/v1 (and the seed
products' compatibility paths, seed 002's at /v1), mounted on Reflex's backend by app/app.py.

Reflex's own app is mounted inside this one, so every layer below acts on /api/ paths only.
Request path through the layers (outermost first):

    RequestContextMiddleware   request id, echoed as X-Request-Id with the rate-limit
                               headers; any exception from below → 500 (503 when the
                               database is down)
    CallerMiddleware           resolves the API key once (routes enforce it via require())
    RateLimitMiddleware        per-key read/write buckets, headers on every answer, 429
    BodyGuardMiddleware        NUL in the URL 400, body over the cap 413, malformed JSON 400
    IdempotencyMiddleware      Idempotency-Key on POST: claim, replay, 409, 422 (keyed routes:
                               checked here, claimed in the route's own transaction); an
                               exception releases the key on its way up
    routes                     parse → one service → shape; domain errors → problem+json
"""

from __future__ import annotations

import re

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute, Match, compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import CallerMiddleware
from app.api.docs import install_docs
from app.api.errors import install_error_handlers, is_api_path, problem_response
from app.api.idempotency import IdempotencyMiddleware, install_keyed_answers, keyed_routes
from app.api.limits import RateLimitMiddleware, new_limiter
from app.api.middleware import BodyGuardMiddleware, RequestContextMiddleware
from app.api.openapi import install_openapi
from app.settings import get_settings

API_PREFIX = "/api/v1"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"


def _routers() -> list[APIRouter]:
    from app.api.compat import public_webhooks, seed000, seed002, seed002_resources, seed004
    from app.api.routes import (
        approvals,
        audit,
        credentials,
        files,
        forms,
        meta,
        out_of_office,
        postman,
        reruns,
        runs,
        schedules,
        steps,
        webhooks,
        workflows,
        workspaces,
    )

    return [meta.router, workspaces.router, workflows.router, runs.router, reruns.router,
            steps.router, schedules.router,
            approvals.router, out_of_office.router, forms.router, credentials.router,
            files.router,
            audit.router, seed000.router, seed004.router, webhooks.router, public_webhooks.router,
            postman.router, seed002.router, seed002_resources.router]




def _operation_id(route: APIRoute) -> str:
    return route.name


class _UnknownApiRoute(BaseRoute):
    """Matches every /api/ path no route took (even ones `{path:path}` would miss, such as
    a path with a newline), so that Reflex's catch-all mount never answers for the API."""

    def __init__(self, endpoint: ASGIApp) -> None:
        self.endpoint = endpoint

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and is_api_path(scope.get("path", "")):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.endpoint(scope, receive, send)


def _install_unknown_route_problems(api: FastAPI) -> None:
    """Unknown /api/ paths answer a 404 problem, a known path with the wrong method a 405
    problem with `Allow`."""
    table: list[tuple[re.Pattern[str], bool, set[str]]] = []

    def methods_at(path: str) -> set[str]:
        """The methods of the routes at `path`; a literal path (/runs/trigger) hides a
        templated one it also matches (/runs/{run_id}), as the document lists them."""
        if not table:
            for route in iter_route_contexts(api.routes):
                if route.path and route.methods:
                    table.append((compile_path(route.path)[0], "{" not in route.path,
                                  set(route.methods)))
        found = [(literal, methods) for regex, literal, methods in table if regex.match(path)]
        literal = [methods for is_literal, methods in found if is_literal]
        return {m for methods in (literal or [m for _, m in found]) for m in methods}

    async def unknown_api_route(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        allowed = methods_at(path)
        if allowed:
            response = problem_response(
                status=405, scope=scope,
                detail=f"{scope['method']} is not allowed here; use {', '.join(sorted(allowed))}",
                headers={"Allow": ", ".join(sorted(allowed))})
        else:
            response = problem_response(status=404, scope=scope,
                                        detail=f"There is no API route at {path}")
        await response(scope, receive, send)

    api.router.routes.append(_UnknownApiRoute(unknown_api_route))


UPLOAD_PATH = "/api/v1/files"
MULTIPART_OVERHEAD = 64 * 1024  # the part headers and boundaries around an upload's bytes


def _body_cap(path: str) -> int:
    """The request body cap of a path: uploads may carry MAX_UPLOAD_BYTES (the service
    checks the file itself), every other call MAX_BODY_BYTES."""
    settings = get_settings()
    if path.rstrip("/") == UPLOAD_PATH:
        return max(settings.max_body_bytes, settings.max_upload_bytes + MULTIPART_OVERHEAD)
    return settings.max_body_bytes


def create_api() -> FastAPI:
    settings = get_settings()
    api = FastAPI(title="Flowdesk API", version="1.0.0", openapi_url=OPENAPI_URL,
                  docs_url=None, redoc_url=None,
                  generate_unique_id_function=_operation_id)
    for router in _routers():
        api.include_router(router)
    install_docs(api, openapi_url=OPENAPI_URL)
    _install_unknown_route_problems(api)
    install_error_handlers(api)
    install_keyed_answers(api)
    install_openapi(api)

    limiter = new_limiter(settings)
    api.state.limiter = limiter
    # add_middleware wraps: the last one added is the outermost.
    api.add_middleware(IdempotencyMiddleware, keyed_in_route=keyed_routes(api))
    api.add_middleware(BodyGuardMiddleware, max_body_bytes=_body_cap)
    api.add_middleware(RateLimitMiddleware, limiter=limiter,
                       shared_storage=bool(settings.redis_url))
    api.add_middleware(CallerMiddleware)
    api.add_middleware(RequestContextMiddleware)
    return api
