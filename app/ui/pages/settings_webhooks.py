"""Settings → Webhooks (first cut: the subscriptions page arrives with the webhooks service)."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import empty_state
from app.ui.components.settings_nav import settings_layout
from app.ui.states.auth import AuthState, guarded


def webhooks_page() -> rx.Component:
    return settings_layout(
        "Webhooks", "Signed POSTs to your systems when runs start, wait, finish or fail.",
        empty_state("webhook", "Webhook settings are on their way",
                    "Meanwhile, manage subscriptions with the API: POST /api/v1/webhooks."),
    )


def register(app: rx.App) -> None:
    app.add_page(webhooks_page, route=routes.SETTINGS_WEBHOOKS, title="Webhooks · Flowdesk",
                 on_load=guarded(AuthState.require_capability_settings))
