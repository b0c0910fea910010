"""Approvals inbox: pending items for me or my role (live), a decided tab, signed links."""

from __future__ import annotations

import reflex as rx

from app.services.inbox import InboxItem
from app.ui import routes
from app.ui.components.approval_dialogs import hand_dialog, link_dialog
from app.ui.components.common import (
    empty_state,
    error_text,
    files_list,
    json_block,
    loading_block,
    notice_text,
    page_header,
    relative_time,
    status_badge,
    time_text,
)
from app.ui.components.form_fields import WIDE_SELECT_STYLE
from app.ui.components.layout import layout
from app.ui.components.out_of_office import out_of_office_card
from app.ui.states.approvals import ApprovalsState
from app.ui.states.auth import AuthState, guarded
from app.ui.states.out_of_office import OutOfOfficeState


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
        rx.cond(item.progress != "", rx.badge(item.progress, color_scheme="blue", size="1",
                                              data_testid="approval-progress")),
        rx.cond(item.out_of_office,
                rx.badge(rx.icon("plane", size=12), "delegated (out of office)",
                         color_scheme="violet", variant="solid", size="1",
                         data_testid="out-of-office-badge")),
        rx.cond(item.delegated_from != "",
                rx.badge("delegated to you by ", item.delegated_from, color_scheme="violet",
                         size="1", data_testid="delegated-from")),
        rx.cond(item.delegated_to != "",
                rx.badge("you delegated this to ", item.delegated_to, color_scheme="violet",
                         size="1", data_testid="delegated-to")),
        rx.cond((item.delegations.length() > 0) & (item.delegated_from == "")
                & (item.delegated_to == ""),
                rx.text("Delegated: ", item.delegations.join(", "), size="1",
                        color_scheme="gray")),
        spacing="3",
        wrap="wrap",
        align="center",
    )


_INPUT_TYPES = (("email", "email"), ("number", "number"), ("integer", "number"),
                ("date", "date"), ("url", "url"))


def _approver_field(item: InboxItem, spec: rx.Var) -> rx.Component:
    """One approver field: a controlled input kept per approval, its error right under it."""
    name = spec["name"].to(str)
    value = ApprovalsState.field_values.get(item.id, {}).get(name, "")
    error = ApprovalsState.field_errors.get(item.id + "/" + name, "")

    def on_change(new: rx.Var) -> rx.event.EventSpec:
        return ApprovalsState.set_field(item.id, name, new)

    test_id = "approver-field-" + name
    control = rx.match(
        spec["type"],
        ("textarea", rx.text_area(value=value, on_change=on_change, rows="3", width="100%",
                                  data_testid=test_id)),
        ("select", rx.el.select(
            rx.el.option("Choose…", value=""),
            rx.foreach(spec["options"].to(list[str]), lambda o: rx.el.option(o, value=o)),
            value=value, on_change=on_change, style=WIDE_SELECT_STYLE, data_testid=test_id)),
        ("checkbox", rx.checkbox(spec["label"].to(str) | name, checked=value == "true",
                                 on_change=on_change, data_testid=test_id)),
        ("file", rx.hstack(
            rx.icon("paperclip", size=14, color="var(--gray-10)"),
            rx.text(ApprovalsState.file_labels.get(item.id + "/" + name, "No file yet"),
                    size="2", data_testid=test_id),
            rx.button("Attach file", size="1", variant="soft", type="button",
                      on_click=ApprovalsState.open_attach(item.id, name),
                      data_testid="approver-attach-" + name),
            align="center", spacing="2")),
        rx.input(type=rx.match(spec["type"], *_INPUT_TYPES, "text"), value=value,
                 on_change=on_change, width="100%", data_testid=test_id,
                 placeholder=spec["placeholder"].to(str)),
    )
    return rx.vstack(
        rx.cond(spec["type"] != "checkbox", rx.text(
            spec["label"].to(str) | name,
            rx.cond(spec["required"].to(bool), rx.text(" *", as_="span", color="var(--red-10)")),
            size="2", weight="medium")),
        control,
        rx.cond(spec["help"], rx.text(spec["help"].to(str), size="1", color_scheme="gray")),
        rx.cond(error != "", rx.text(error, size="2", color="var(--red-11)", role="alert",
                                     data_testid="approver-error-" + name)),
        spacing="1", width="100%", align="start",
    )


def _approver_fields(item: InboxItem) -> rx.Component:
    return rx.cond(
        item.fields.length() > 0,
        rx.vstack(
            rx.text("To approve, fill in", size="1", color_scheme="gray"),
            rx.foreach(item.fields, lambda spec: _approver_field(item, spec)),
            spacing="2", width="100%", padding="8px", border_radius="var(--radius-3)",
            background="var(--gray-a2)",
        ),
    )


def _votes(item: InboxItem) -> rx.Component:
    return rx.cond(
        item.votes.length() > 0,
        rx.vstack(
            rx.foreach(item.votes, lambda vote: rx.hstack(
                rx.icon(rx.cond(vote["decision"] == "approved", "check", "x"), size=14,
                        color=rx.cond(vote["decision"] == "approved", "var(--green-10)",
                                      "var(--red-10)")),
                rx.text(vote["by"], size="1", weight="medium"),
                rx.text(vote["decision"], size="1", color_scheme="gray"),
                rx.cond(vote["comment"] != "",
                        rx.text("“", vote["comment"], "”", size="1", font_style="italic")),
                spacing="1", align="center", data_testid="approval-vote")),
            spacing="1", width="100%",
        ),
    )


def _waiting_for_others(item: InboxItem) -> rx.Component:
    return rx.cond(
        item.delegated_to != "",
        rx.cond(item.out_of_office,
                rx.text("You are out of office: ", item.delegated_to, " decides in your place "
                        "until ", time_text(item.out_of_office_until, font_size="14px"), ".",
                        size="2", color_scheme="gray", data_testid="handed-on-note"),
                rx.text("You delegated your vote to ", item.delegated_to, "; they decide in "
                        "your place.", size="2", color_scheme="gray",
                        data_testid="handed-on-note")),
        _waiting_or_view_only(item),
    )


def _waiting_or_view_only(item: InboxItem) -> rx.Component:
    return rx.cond(
        item.my_vote != "",
        rx.text("You ", item.my_vote, "; the step waits for the other votes.", size="2",
                color_scheme="gray", data_testid="my-vote"),
        rx.cond(item.is_requester,
                rx.text("You started this run, so someone else must decide it.", size="2",
                        color_scheme="gray", data_testid="requester-note"),
                _view_only()),
    )


def _decide_controls(item: InboxItem) -> rx.Component:
    busy = ApprovalsState.busy_id == item.id
    return rx.vstack(
        _approver_fields(item),
        rx.text_area(
            placeholder=rx.cond(item.require_comment_on_reject,
                                "Comment (required to reject)", "Comment (optional)"),
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
            rx.cond(item.can_delegate, rx.button(
                rx.icon("user-round-plus", size=14), "Delegate", variant="ghost", size="1",
                on_click=ApprovalsState.open_delegate(item.id), data_testid="delegate-button")),
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
            files_list(item.files),
            json_block(item.run_input, "Run input"),
            rx.cond(item.earlier_outputs != "", rx.el.details(
                rx.el.summary(rx.text("Earlier steps' outputs", as_="span", size="1",
                                      color_scheme="gray"), style={"cursor": "pointer"}),
                json_block(item.earlier_outputs, ""),
                width="100%",
            )),
            _votes(item),
            rx.cond(item.can_reassign, rx.button(
                rx.icon("users", size=14), "Reassign", variant="ghost", size="1",
                on_click=ApprovalsState.open_reassign(item.id), data_testid="reassign-button")),
            rx.cond(item.status == "pending",
                    rx.cond(item.can_decide, _decide_controls(item), _waiting_for_others(item)),
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


_EMPTY = {
    "mine": ("Nothing waits for you by name",
             "Items assigned to you (by email) appear here at once. Items for your role are "
             "under Team."),
    "team": ("Nothing waits for your team",
             "Items assigned to your role (admins: every item) appear here at once."),
    "delegated": ("Nothing delegated to you",
                  "When a colleague delegates an item to you, you decide it in their place "
                  "here."),
}


def _pending_list(items: rx.Var, tab: str) -> rx.Component:
    title, text = _EMPTY[tab]
    return rx.cond(
        ~ApprovalsState.loaded,
        loading_block(),
        rx.cond(
            items.length() > 0,
            rx.vstack(rx.foreach(items, approval_card), spacing="3", width="100%"),
            empty_state("inbox", title, text, rx.link("See runs", href=routes.RUNS)),
        ),
    )


def _decided_list() -> rx.Component:
    return rx.cond(
        ApprovalsState.decided.length() > 0,
        rx.vstack(rx.foreach(ApprovalsState.decided, approval_card), spacing="3", width="100%"),
        empty_state("history", "No decisions yet",
                    "Approvals you can see appear here once someone approves or rejects them."),
    )


def _tab(label: str, value: str, items: rx.Var) -> rx.Component:
    return rx.tabs.trigger(
        rx.hstack(rx.text(label), rx.cond(items.length() > 0, rx.badge(items.length(), size="1"))),
        value=value, data_testid="tab-" + value)


def attach_dialog() -> rx.Component:
    """One dropzone for every approver file field (a dropzone cannot sit in a foreach)."""
    upload_id = "approver-upload"
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Attach a file"),
            rx.dialog.description(ApprovalsState.attach_field, size="2",
                                  color_scheme="gray"),
            rx.upload(
                rx.vstack(
                    rx.cond(ApprovalsState.attaching, rx.spinner(size="2"),
                            rx.icon("upload", size=18, color="var(--gray-10)")),
                    rx.text("Drop a file here, or click to choose one", size="2",
                            color_scheme="gray"),
                    align="center", spacing="1"),
                id=upload_id, multiple=False, max_files=1,
                on_drop=ApprovalsState.upload_attachment(rx.upload_files(upload_id=upload_id)),
                border="1px dashed var(--gray-a8)", border_radius="var(--radius-2)",
                padding="14px", width="100%", cursor="pointer", margin_top="12px",
                data_testid="approver-upload"),
            rx.cond(ApprovalsState.attach_error != "", rx.text(
                ApprovalsState.attach_error, size="2", color="var(--red-11)", role="alert",
                data_testid="attach-error")),
            rx.flex(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                    justify="end", margin_top="12px"),
        ),
        open=ApprovalsState.attach_field != "",
        on_open_change=ApprovalsState.close_attach,
    )


def approvals_page() -> rx.Component:
    return layout(
        page_header("Approvals",
                    subtitle="Pending items for you, your role or delegated to you, newest first"),
        rx.cond(~AuthState.can_decide,
                rx.callout("Your role (" + AuthState.role + ") can see approvals but not decide "
                           "them.", icon="eye", color_scheme="gray", size="1",
                           margin_bottom="12px", data_testid="cannot-decide")),
        notice_text(ApprovalsState.notice),
        out_of_office_card(),
        rx.tabs.root(
            rx.tabs.list(
                _tab("Mine", "mine", ApprovalsState.mine),
                _tab("Team", "team", ApprovalsState.team),
                _tab("Delegated", "delegated", ApprovalsState.delegated),
                rx.tabs.trigger("Decided", value="decided", data_testid="tab-decided"),
            ),
            rx.tabs.content(rx.box(_pending_list(ApprovalsState.mine, "mine"),
                                   padding_top="12px"), value="mine"),
            rx.tabs.content(rx.box(_pending_list(ApprovalsState.team, "team"),
                                   padding_top="12px"), value="team"),
            rx.tabs.content(rx.box(_pending_list(ApprovalsState.delegated, "delegated"),
                                   padding_top="12px"), value="delegated"),
            rx.tabs.content(rx.box(_decided_list(), padding_top="12px"), value="decided"),
            value=ApprovalsState.tab,
            on_change=ApprovalsState.set_tab,
            width="100%",
        ),
        link_dialog(),
        hand_dialog(),
        attach_dialog(),
    )


def register(app: rx.App) -> None:
    app.add_page(approvals_page, route=routes.APPROVALS, title="Approvals · Flowdesk",
                 on_load=guarded(ApprovalsState.open_page, OutOfOfficeState.load))
