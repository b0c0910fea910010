"""The inbox's dialogs: a signed link for one approver, and delegate / reassign."""

from __future__ import annotations

import reflex as rx

from app.ui.components.common import error_text
from app.ui.components.form_fields import WIDE_SELECT_STYLE
from app.ui.states.approvals import ApprovalsState


def link_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Approval link"),
            rx.dialog.description(
                "A link that lets one approver decide without signing in. It works once and "
                "expires in 72 hours. Opening it only shows the approval; the button decides.",
                size="2",
            ),
            rx.vstack(
                rx.cond(
                    ApprovalsState.link_candidates.length() > 0,
                    rx.select.root(
                        rx.select.trigger(width="100%"),
                        rx.select.content(rx.foreach(
                            ApprovalsState.link_candidates,
                            lambda c: rx.select.item(c["email"], value=c["user_id"]))),
                        value=ApprovalsState.link_user_id,
                        on_change=ApprovalsState.set_link_user,
                    ),
                ),
                error_text(ApprovalsState.link_error),
                rx.cond(
                    ApprovalsState.link_url != "",
                    rx.vstack(
                        rx.code(ApprovalsState.link_url, word_break="break-all",
                                data_testid="approval-link-url"),
                        rx.button(rx.icon("copy", size=14), "Copy",
                                  on_click=rx.set_clipboard(ApprovalsState.link_url),
                                  size="1", variant="soft"),
                        width="100%",
                    ),
                ),
                rx.flex(
                    rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray",
                                              on_click=ApprovalsState.close_link_dialog)),
                    rx.button("Make link", on_click=ApprovalsState.make_link,
                              disabled=ApprovalsState.link_user_id == "",
                              data_testid="make-link"),
                    spacing="2",
                    justify="end",
                    width="100%",
                ),
                spacing="3",
                margin_top="12px",
                width="100%",
            ),
            max_width="520px",
        ),
        open=ApprovalsState.link_approval_id != "",
        on_open_change=lambda _open: ApprovalsState.close_link_dialog(),
    )


def hand_dialog() -> rx.Component:
    """Delegate (an assignee hands their vote on) or reassign (an admin replaces assignees)."""
    delegating = ApprovalsState.hand_mode == "delegate"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(delegating, "Delegate this approval", "Reassign")),
            rx.dialog.description(rx.cond(
                delegating,
                "The colleague you choose decides in your place; the delegation is recorded "
                "on the item and in its run's timeline.",
                "Replace who may decide this item: emails or role:<name>, separated by "
                "commas. Votes already cast stay."), size="2"),
            rx.vstack(
                rx.cond(
                    delegating,
                    rx.cond(ApprovalsState.delegate_choices.length() > 0, rx.el.select(
                        rx.foreach(ApprovalsState.delegate_choices,
                                   lambda email: rx.el.option(email, value=email)),
                        value=ApprovalsState.delegate_to,
                        on_change=ApprovalsState.set_delegate_to, style=WIDE_SELECT_STYLE,
                        data_testid="delegate-to")),
                    rx.input(value=ApprovalsState.reassign_text,
                             on_change=ApprovalsState.set_reassign_text, width="100%",
                             placeholder="manager@example.com, role:finance",
                             data_testid="reassign-to"),
                ),
                error_text(ApprovalsState.hand_error),
                rx.flex(
                    rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray",
                                              on_click=ApprovalsState.close_hand_dialog)),
                    rx.button(rx.cond(delegating, "Delegate", "Reassign"),
                              on_click=ApprovalsState.hand_on,
                              disabled=delegating & (ApprovalsState.delegate_to == ""),
                              data_testid="hand-confirm"),
                    spacing="2", justify="end", width="100%",
                ),
                spacing="3", margin_top="12px", width="100%",
            ),
            max_width="520px",
        ),
        open=ApprovalsState.hand_approval_id != "",
        on_open_change=lambda _open: ApprovalsState.close_hand_dialog(),
    )
