"""The Reflex entry point: pages, the REST API and MCP mounts and the background jobs. Wiring
only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import reflex as rx

from app.api.main import create_api
from app.api.routing import api_paths_first, limit_worker_threads
from app.mcp.http import mount_mcp
from app.settings import get_settings
from app.ui.approval_link_pages import router as approval_link_router
from app.ui.pages import register_all

log = logging.getLogger("app")


@contextlib.asynccontextmanager
async def background_jobs() -> AsyncIterator[None]:
    """Migrate, then run the executor, dispatcher and schedules for the app's lifetime."""
    from app.migrations import upgrade_to_head
    from app.scheduler import start_background, stop_background

    limit_worker_threads(get_settings().api_threads)
    await asyncio.to_thread(upgrade_to_head)
    if get_settings().run_scheduler:
        await asyncio.to_thread(start_background)
    try:
        yield
    finally:
        await asyncio.to_thread(stop_background)


class FlowdeskApp(rx.App):
    """Reflex's app, with API paths that its top-level mount cannot match sent to the API."""

    def __call__(self):  # type: ignore[no-untyped-def]
        return api_paths_first(super().__call__(), api)


api = create_api()
api.include_router(approval_link_router)
mcp_endpoint = mount_mcp(api)
app = FlowdeskApp(api_transformer=api)
register_all(app)
app.register_lifespan_task(background_jobs)
app.register_lifespan_task(mcp_endpoint.lifespan)
