"""Reflex configuration; values come from app.settings (no logic here).

No db_url: the app uses its own engine (app/db.py) and Alembic setup, not rx.Model.
"""

import reflex as rx

from app.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="app",
    redis_url=_settings.redis_url,
    frontend_port=_settings.port,
    backend_port=_settings.backend_port or _settings.port,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo"))],
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
)
