"""The form builder (/forms/<id>): settings, fields, the workflow and its field mapping on the
left; a live preview of the public page on the right."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import (
    error_text,
    for_this_address,
    loading_block,
    notice_text,
)
from app.ui.components.form_fields import (
    SELECT_STYLE,
    WIDE_SELECT_STYLE,
    field_block,
    fields_editor,
)
from app.ui.components.layout import layout
from app.ui.states.auth import guarded
from app.ui.states.form_builder import FormBuilderState as S


def _setting(name: str, label: str, placeholder: str = "", area: bool = False) -> rx.Component:
    control = rx.text_area if area else rx.input
    return rx.vstack(
        rx.text(label, size="1", weight="medium", color_scheme="gray"),
        control(value=S.settings[name], on_change=lambda v: S.set_setting(name, v),
                placeholder=placeholder, width="100%", data_testid=f"form-{name}",
                **({"rows": "2"} if area else {})),
        spacing="1", width="100%",
    )


def _header() -> rx.Component:
    return rx.flex(
        rx.hstack(
            rx.link(rx.icon("arrow-left", size=18), href=routes.FORMS, aria_label="All forms",
                    color="var(--gray-11)"),
            rx.heading(S.settings["title"], size="6"),
            rx.cond(S.is_published,
                    rx.badge("published v", S.published_version, color_scheme="green",
                             data_testid="published-badge"),
                    rx.badge("unpublished", color_scheme="gray")),
            rx.cond(S.is_published & S.has_unpublished_changes & ~S.dirty,
                    rx.badge("Draft differs from the published version", color_scheme="amber",
                             data_testid="draft-badge")),
            rx.cond(S.dirty, rx.badge(rx.icon("circle-dot", size=12), "Unsaved changes",
                                      color_scheme="orange", data_testid="unsaved-badge")),
            align="center", spacing="2", wrap="wrap",
        ),
        rx.hstack(
            rx.link(rx.button(rx.icon("table", size=14), "Submissions", variant="soft",
                              color_scheme="gray"),
                    href=routes.FORMS + "/" + S.fid + "/submissions"),
            rx.button(rx.icon("save", size=14), "Save", on_click=S.save,
                      disabled=~S.dirty | S.busy, data_testid="form-save"),
            rx.cond(S.is_published & (S.has_unpublished_changes | S.dirty),
                    rx.button(rx.icon("rocket", size=14), "Publish changes",
                              color_scheme="green", on_click=S.set_published(True),
                              disabled=S.busy, data_testid="form-publish-changes")),
            rx.cond(S.is_published,
                    rx.button(rx.icon("eye-off", size=14), "Unpublish", color_scheme="gray",
                              variant="outline", on_click=S.set_published(False),
                              disabled=S.busy, data_testid="form-unpublish"),
                    rx.button(rx.icon("rocket", size=14), "Publish", color_scheme="green",
                              on_click=S.set_published(True), disabled=S.busy,
                              data_testid="form-publish")),
            spacing="2", wrap="wrap",
        ),
        justify="between", align="center", gap="3", wrap="wrap", width="100%",
    )


def _banners() -> rx.Component:
    return rx.vstack(
        rx.cond(S.conflict != "", rx.callout(
            rx.hstack(rx.text(S.conflict, size="2"),
                      rx.button("Reload latest", size="1", color_scheme="red",
                                on_click=S.reload_latest),
                      align="center", spacing="3", wrap="wrap"),
            icon="triangle-alert", color_scheme="red", width="100%", role="alert",
            data_testid="conflict")),
        error_text(S.error),
        notice_text(S.notice),
        rx.cond(S.is_published, rx.callout(
            rx.hstack(rx.text("Public link:", size="2"),
                      rx.link(S.public_path, href=S.public_path, is_external=True, size="2",
                              data_testid="public-link"),
                      spacing="2", wrap="wrap"),
            icon="link", color_scheme="green", size="1", width="100%")),
        spacing="2", width="100%",
    )


def _mapping_row(row: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(row["field"], size="2", width="40%", truncate=True),
        rx.icon("arrow-right", size=14, color="var(--gray-9)"),
        rx.el.select(
            rx.el.option("(not an input)", value=""),
            rx.foreach(S.workflow_inputs, lambda name: rx.el.option(name, value=name)),
            value=rx.cond(S.workflow_inputs.contains(row["target"]), row["target"], ""),
            on_change=lambda v: S.set_mapping(row["field"], v),
            style={**SELECT_STYLE, "flex": "1"},
        ),
        align="center", spacing="2", width="100%",
    )


def _workflow_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.text("Starts workflow", weight="bold"),
        rx.el.select(
            rx.el.option("No workflow (collect responses only)", value=""),
            rx.foreach(S.workflow_options, lambda o: rx.el.option(o["label"], value=o["value"])),
            value=S.workflow_id, on_change=S.set_workflow, style=WIDE_SELECT_STYLE,
            data_testid="form-workflow"),
        rx.cond(S.workflow_id != "", rx.vstack(
            rx.text("Each form field feeds the workflow input it maps to:", size="1",
                    color_scheme="gray"),
            rx.foreach(S.mapping_rows, _mapping_row),
            rx.button(rx.icon("wand-sparkles", size=14), "Use the workflow's input fields",
                      size="1", variant="soft", on_click=S.use_workflow_fields,
                      disabled=S.workflow_inputs.length() == 0),
            spacing="2", width="100%")),
        rx.cond(S.warnings.length() > 0, rx.callout(
            rx.vstack(rx.foreach(S.warnings, lambda w: rx.text(w, size="1")), spacing="1"),
            icon="triangle-alert", color_scheme="amber", size="1", width="100%",
            data_testid="mapping-warnings")),
        spacing="2", width="100%",
    ), width="100%")


def _page_row(page: rx.Var, index: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.text(index + 1, size="2", color_scheme="gray", width="20px"),
        rx.input(value=page["title"], on_change=lambda v: S.set_page_title(index, v),
                 placeholder="Page title", size="1", flex="1",
                 data_testid="form-page-title-" + index.to_string()),
        rx.icon_button(rx.icon("trash-2", size=14), on_click=S.remove_page(index), size="1",
                       variant="ghost", color_scheme="gray", aria_label="Remove page",
                       data_testid="form-page-remove-" + index.to_string()),
        align="center", spacing="2", width="100%",
    )


def _pages_card() -> rx.Component:
    return rx.card(rx.vstack(
        rx.text("Pages", weight="bold"),
        rx.cond(S.pages.length() == 0,
                rx.text("One page. Add pages to split a long form; set each field's Page.",
                        size="1", color_scheme="gray"),
                rx.foreach(S.pages, _page_row)),
        rx.button(rx.icon("plus", size=14), "Add page", size="1", variant="soft",
                  on_click=S.add_page, data_testid="form-add-page"),
        spacing="2", width="100%"), width="100%")


def _editor() -> rx.Component:
    return rx.vstack(
        rx.card(rx.vstack(
            rx.text("Form", weight="bold"),
            _setting("title", "Title"),
            _setting("description", "Description", "Shown above the fields", area=True),
            rx.grid(_setting("slug", "Link (/f/…)"),
                    _setting("success_message", "Thank-you message"),
                    columns="2", spacing="2", width="100%"),
            spacing="2", width="100%"), width="100%"),
        _pages_card(),
        rx.card(rx.vstack(rx.text("Fields", weight="bold"),
                          fields_editor(S.field_rows, S.edit_field, extended=True,
                                        prefix="form", problems=S.field_problems),
                          spacing="2", width="100%"), width="100%"),
        _workflow_card(),
        spacing="3", width="100%", min_width="0",
    )


def _preview_field(spec: rx.Var) -> rx.Component:
    """A field as the public page shows it, with where it goes and when it shows."""
    return rx.vstack(
        rx.cond((S.pages.length() > 0) | spec["show_if"].to(bool), rx.hstack(
            rx.cond(S.pages.length() > 0,
                    rx.badge("page ", spec["page"].to(str) | "1", variant="soft", size="1")),
            rx.cond(spec["show_if"].to(bool),
                    rx.badge("shown if ", spec["show_if"].to(str), variant="soft",
                             color_scheme="amber", size="1")),
            spacing="1", wrap="wrap")),
        field_block(spec), spacing="1", width="100%")


def _preview() -> rx.Component:
    return rx.box(
        rx.text("Preview", size="1", weight="medium", color_scheme="gray",
                margin_bottom="6px"),
        rx.card(rx.vstack(
            rx.heading(S.settings["title"], size="5"),
            rx.cond(S.settings["description"] != "",
                    rx.text(S.settings["description"], color_scheme="gray", size="2")),
            rx.foreach(S.fields, _preview_field),
            rx.button("Submit", disabled=True, width="100%"),
            spacing="3", width="100%"), data_testid="form-preview"),
        position="sticky", top="16px", width="100%",
    )


def form_builder_page() -> rx.Component:
    body = rx.vstack(
        _header(),
        _banners(),
        rx.grid(_editor(), _preview(), columns=rx.breakpoints(initial="1", md="2"),
                spacing="4", width="100%", align="start"),
        spacing="3", width="100%",
    )
    loading = loading_block("Loading the form…")
    return layout(for_this_address(S.shown_for, "form_id", rx.cond(
        S.load_error != "", error_text(S.load_error), rx.cond(S.loaded, body, loading)),
        loading))


def register(app: rx.App) -> None:
    app.add_page(form_builder_page, route=routes.FORM, title="Form builder · Flowdesk",
                 on_load=guarded(S.load))
