"""Approvals inbox: pending items for me or my role (live), a decided tab, signed links."""

from __future__ import annotations

import reflex as rx

from app.services.inbox import InboxItem
from app.ui import routes
from app.ui.components.common import (
    empty_state,
    error_text,
    json_block,
    loading_block,
    notice_text,
    page_header,
    relative_time,
    status_badge,
    time_text,
)
from app.ui.components.layout import layout
from app.ui.states.approvals import ApprovalsState
from app.ui.states.auth import AuthState, guarded


def _facts(item: InboxItem) -> rx.Component:
    return rx.flex(
        rx.text("Assigned to ", rx.code(item.assignees), size="1", color_scheme="gray"),
        rx.text("Arrived ", relative_time(item.created_at), size="1", color_scheme="gray"),
        rx.cond(
            item.due_at != "",
            rx.text("Due ", relative_time(item.due_at), size="1",
                    color_scheme=rx.cond(item.overdue, "red", "gray")),
        ),
        rx.cond(item.overdue, rx.badge("overdue", color_scheme="red", size="1")),
        spacing="3",
        wrap="wrap",
        align="center",
    )


def _decide_controls(item: InboxItem) -> rx.Component:
    busy = ApprovalsState.busy_id == item.id
    return rx.vstack(
        rx.text_area(
            placeholder="Comment (optional)",
            value=ApprovalsState.comments.get(item.id, ""),
            on_change=lambda text: ApprovalsState.set_comment(item.id, text),
            width="100%",
            rows="2",
            data_testid="approval-comment",
        ),
        rx.flex(
            rx.button(rx.cond(busy, rx.spinner(size="1"), rx.icon("check", size=16)), "Approve",
                      color_scheme="green", disabled=ApprovalsState.busy_id != "",
                      on_click=ApprovalsState.decide(item.id, "approved"),
                      data_testid="approve-button"),
            rx.button(rx.icon("x", size=16), "Reject", color_scheme="red", variant="soft",
                      disabled=ApprovalsState.busy_id != "",
                      on_click=ApprovalsState.decide(item.id, "rejected"),
                      data_testid="reject-button"),
            rx.spacer(),
            rx.button(rx.icon("link", size=14), "Approval link", variant="ghost", size="1",
                      on_click=ApprovalsState.open_link_dialog(item.id),
                      data_testid="link-button"),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
        error_text(ApprovalsState.errors.get(item.id, "")),
        width="100%",
        spacing="2",
    )


def _view_only() -> rx.Component:
    return rx.hstack(rx.icon("eye", size=14, color="var(--gray-10)"),
                     rx.text("View only: only an assigned approver or an admin can decide this.",
                             size="1", color_scheme="gray"),
                     align="center", spacing="1", data_testid="view-only")


def approval_card(item: InboxItem) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.flex(
                rx.link(rx.text(item.workflow_title, weight="bold", size="3"),
                        href=routes.RUNS + "/" + item.run_id),
                rx.badge(item.step_key, variant="surface", size="1"),
                rx.spacer(),
                status_badge(item.status),
                spacing="2",
                align="center",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(item.instructions != "",
                    rx.text(item.instructions, size="3", data_testid="approval-instructions")),
            _facts(item),
            json_block(item.run_input, "Run input"),
            rx.cond(item.earlier_outputs != "", rx.el.details(
                rx.el.summary(rx.text("Earlier steps' outputs", as_="span", size="1",
                                      color_scheme="gray"), style={"cursor": "pointer"}),
                json_block(item.earlier_outputs, ""),
                width="100%",
            )),
            rx.cond(item.status == "pending",
                    rx.cond(item.can_decide, _decide_controls(item), _view_only()),
                    _decision(item)),
            spacing="3",
            width="100%",
            min_width="0",
        ),
        width="100%",
        data_testid="approval-card",
        data_approval_id=item.id,
        data_run_id=item.run_id,
    )


def _decision(item: InboxItem) -> rx.Component:
    return rx.flex(
        rx.text(item.decided_by, weight="medium", size="2"),
        rx.text(" on ", size="2", color_scheme="gray"),
        time_text(item.decided_at, font_size="14px"),
        rx.cond(item.comment != "", rx.text("“", item.comment, "”", size="2", font_style="italic")),
        spacing="1",
        wrap="wrap",
        align="center",
    )


def _pending_list() -> rx.Component:
    return rx.cond(
        ~ApprovalsState.loaded,
        loading_block(),
        rx.cond(
            ApprovalsState.pending.length() > 0,
            rx.vstack(rx.foreach(ApprovalsState.pending, approval_card), spacing="3",
                      width="100%"),
            empty_state("inbox", "Nothing waits for you",
                        "When a run reaches an approval step assigned to you or your role, it "
                        "appears here at once. Start one from Workflows or the API.",
                        rx.link("See runs", href=routes.RUNS)),
        ),
    )


def _decided_list() -> rx.Component:
    return rx.cond(
        ApprovalsState.decided.length() > 0,
        rx.vstack(rx.foreach(ApprovalsState.decided, approval_card), spacing="3", width="100%"),
        empty_state("history", "No decisions yet",
                    "Approvals you can see appear here once someone approves or rejects them."),
    )


def _link_dialog() -> rx.Component:
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


def approvals_page() -> rx.Component:
    return layout(
        page_header("Approvals", subtitle="Pending items for you or your role, newest first"),
        rx.cond(~AuthState.can_decide,
                rx.callout("Your role (" + AuthState.role + ") can see approvals but not decide "
                           "them.", icon="eye", color_scheme="gray", size="1",
                           margin_bottom="12px", data_testid="cannot-decide")),
        notice_text(ApprovalsState.notice),
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger(rx.hstack(rx.text("Pending"),
                                          rx.badge(ApprovalsState.pending.length(), size="1")),
                                value="pending", data_testid="tab-pending"),
                rx.tabs.trigger("Decided", value="decided", data_testid="tab-decided"),
            ),
            rx.tabs.content(rx.box(_pending_list(), padding_top="12px"), value="pending"),
            rx.tabs.content(rx.box(_decided_list(), padding_top="12px"), value="decided"),
            value=ApprovalsState.tab,
            on_change=ApprovalsState.set_tab,
            width="100%",
        ),
        _link_dialog(),
    )


def register(app: rx.App) -> None:
    app.add_page(approvals_page, route=routes.APPROVALS, title="Approvals · Flowdesk",
                 on_load=guarded(ApprovalsState.open_page))
