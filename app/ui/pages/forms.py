"""Forms (placeholder: the builder engineer replaces this module)."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import empty_state, page_header
from app.ui.components.layout import layout
from app.ui.states.auth import guarded


def forms_page() -> rx.Component:
    return layout(
        page_header("Forms"),
        empty_state("construction", "Forms are coming",
                    "This page is being built; use the REST API meanwhile."),
    )


def register(app: rx.App) -> None:
    app.add_page(forms_page, route=routes.FORMS, title="Forms · Flowdesk",
                 on_load=guarded())
