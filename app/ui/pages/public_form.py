"""The public form page (/f/<slug>): anyone with the link, no sign-in, no app chrome."""

from __future__ import annotations

import reflex as rx

from app.ui import routes
from app.ui.components.common import for_this_address, status_badge
from app.ui.components.form_fields import field_block
from app.ui.states.public_form import MAX_FILE_FIELDS_PER_PAGE
from app.ui.states.public_form import PublicFormState as S

RUN_STATUS_TEXT = (
    ("IN_PROGRESS", "We are processing your request."),
    ("BLOCKED", "Your request is waiting for a person's approval."),
    ("FLAGGED", "Your request needs attention from our team."),
    ("COMPLETED", "Your request has been completed."),
    ("CANCELLED", "Your request was cancelled."),
)


def _frame(*children: rx.Component) -> rx.Component:
    return rx.box(
        rx.center(
            rx.card(rx.vstack(*children, spacing="4", width="100%"), size="3", width="100%"),
            width="100%", max_width="560px", margin_x="auto",
        ),
        padding=rx.breakpoints(initial="16px", sm="48px 16px"),
        min_height="100vh", background="var(--gray-2)",
    )


def _file_slot(slot: int) -> rx.Component:
    """The page's `slot`-th file field. Uploads sit outside the fields' foreach: a dropzone
    is a hook of its own and cannot read the loop's variable, so each slot has a fixed id.
    A chosen file is stored at once; the submission refers to it by id."""
    spec = S.page_file_fields[slot]
    name = spec["name"].to(str)
    upload_id = f"upload-slot-{slot}"
    chosen = S.uploads.get(name, {}).to(dict[str, str])
    control = rx.cond(
        S.uploads.contains(name),
        rx.hstack(
            rx.icon("paperclip", size=16),
            rx.text(chosen["name"], size="2", weight="medium", data_testid="file-" + name),
            rx.text(chosen["size"], size="1", color_scheme="gray"),
            rx.button("Remove", size="1", variant="ghost", color_scheme="gray", type="button",
                      on_click=S.remove_file(name), data_testid="file-remove-" + name),
            align="center", spacing="2", width="100%",
            border="1px solid var(--gray-a6)", border_radius="var(--radius-2)", padding="8px",
        ),
        rx.upload(
            rx.vstack(
                rx.cond(S.uploading == name, rx.spinner(size="2"),
                        rx.icon("upload", size=18, color="var(--gray-10)")),
                rx.text("Drop a file here, or click to choose one", size="2",
                        color_scheme="gray"),
                rx.text(spec["hint"].to(str), size="1", color_scheme="gray"),
                align="center", spacing="1",
            ),
            id=upload_id, multiple=False, max_files=1,
            on_drop=S.upload_file(rx.upload_files(upload_id=upload_id), slot),
            border="1px dashed var(--gray-a8)", border_radius="var(--radius-2)",
            padding="14px", width="100%", cursor="pointer",
            data_testid="upload-" + name,
        ),
    )
    return rx.cond(S.page_file_fields.length() > slot, rx.box(
        field_block(spec, error=S.errors.get(name, ""), control=control), width="100%"))


def _field(spec: rx.Var) -> rx.Component:
    name = spec["name"].to(str)
    return rx.box(
        field_block(spec, error=S.errors.get(name, ""), value=S.values.get(name, ""),
                    on_change=S.set_value),
        key=name, width="100%",
    )


def _open_form() -> rx.Component:
    return rx.vstack(
        rx.heading(S.title, size="6", as_="h1"),
        rx.cond(S.description != "", rx.text(S.description, color_scheme="gray")),
        rx.cond(S.progress_text != "", rx.vstack(
            rx.text(S.progress_text, size="1", color_scheme="gray", data_testid="progress"),
            rx.cond(S.page_title != "", rx.heading(S.page_title, size="4", as_="h2",
                                                   data_testid="page-title")),
            rx.cond(S.page_description != "", rx.text(S.page_description, size="2",
                                                       color_scheme="gray")),
            spacing="1", width="100%")),
        rx.form(
            rx.vstack(
                rx.foreach(S.page_fields, _field),
                *[_file_slot(slot) for slot in range(MAX_FILE_FIELDS_PER_PAGE)],
                rx.cond(S.error != "", rx.callout(S.error, icon="triangle-alert",
                                                  color_scheme="red", size="1", width="100%",
                                                  role="alert", data_testid="form-error")),
                rx.hstack(
                    rx.cond(S.page_index > 0, rx.button(
                        "Back", type="button", size="3", variant="soft", color_scheme="gray",
                        on_click=S.back, data_testid="back")),
                    rx.button(rx.cond(S.submitting, rx.spinner(size="2"), rx.fragment()),
                              rx.cond(S.is_last_page, "Submit", "Next"),
                              type="submit", size="3", flex="1",
                              disabled=S.submitting | (S.uploading != ""),
                              data_testid=rx.cond(S.is_last_page, "submit", "next")),
                    spacing="2", width="100%",
                ),
                spacing="4", width="100%",
            ),
            on_submit=S.submit_or_next, no_validate=True, width="100%",
            reset_on_submit=False,
        ),
        spacing="3", width="100%",
    )


def _thanks() -> rx.Component:
    return rx.vstack(
        rx.icon("circle-check", size=40, color="var(--green-9)"),
        rx.heading("Thank you!", size="6", as_="h1"),
        rx.text(S.success_message, data_testid="thanks"),
        rx.cond(S.run_status != "", rx.hstack(
            status_badge(S.run_status),
            rx.text(rx.match(S.run_status, *RUN_STATUS_TEXT, ""), size="2",
                    color_scheme="gray"),
            align="center", spacing="2", data_testid="run-status")),
        rx.button("Submit another response", variant="soft", on_click=S.another),
        align="center", spacing="3", width="100%", text_align="center",
    )


def _closed() -> rx.Component:
    return rx.vstack(
        rx.icon("lock", size=36, color="var(--gray-9)"),
        rx.heading(S.title, size="5", as_="h1"),
        rx.text(rx.cond(S.phase == "missing",
                        "There is no form at this address. Check the link you were given.",
                        "This form is not accepting responses right now."),
                color_scheme="gray", data_testid="form-closed"),
        align="center", spacing="3", width="100%", text_align="center",
    )


def public_form_page() -> rx.Component:
    spinner = rx.center(rx.spinner(), padding="24px", width="100%")
    return _frame(for_this_address(S.form_slug, "slug", rx.match(
        S.phase,
        ("open", _open_form()),
        ("thanks", _thanks()),
        ("closed", _closed()),
        ("missing", _closed()),
        spinner,
    ), spinner))


def register(app: rx.App) -> None:
    app.add_page(public_form_page, route=routes.PUBLIC_FORM, title="Form", on_load=S.load)
