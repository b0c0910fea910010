"""Reflex configuration; values come from app.settings (no logic here). Ports are given
on the command line (scripts/start.sh) so one port serves pages and API.

No db_url: the app uses its own engine (app/db.py) and Alembic setup, not rx.Model.
"""

import reflex as rx

from app.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="app",
    redis_url=_settings.redis_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
