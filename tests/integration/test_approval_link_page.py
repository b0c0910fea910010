"""The signed approval link's pages over HTTP (the FastAPI routes, a real database): GET shows
the approver fields and the votes so far and decides nothing; POST votes, once per voter;
a bad field value or a missing rejection comment comes back (422) next to its field."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.api.main import create_api
from app.db import read_session, write_session
from app.models import Actor, ApprovalStatus, ApprovalVote, Role, RunStatus
from app.services import accounts, approval_links
from app.ui.approval_link_pages import router

EVERY_KIND: list[dict[str, Any]] = [
    {"name": "Start date", "type": "date", "required": True, "help": "Their first day"},
    {"name": "Cost centre", "type": "select", "options": ["R&D", "Sales"], "required": True},
    {"name": "Laptop", "type": "checkbox", "label": "Order a laptop"},
    {"name": "Budget", "type": "number"},
    {"name": "Seats", "type": "integer"},
    {"name": "Buddy", "type": "email", "placeholder": "someone@acme.test"},
    {"name": "Wiki", "type": "url"},
    {"name": "Title", "type": "text"},
    {"name": "Notes", "type": "textarea"},
]
GOOD = {"field.Start date": "2027-01-04", "field.Cost centre": "R&D", "field.Laptop": "true",
        "field.Budget": "1200.5", "field.Seats": "2", "field.Buddy": "ann@acme.test",
        "field.Wiki": "https://wiki.acme.test/ada", "field.Title": "Engineer",
        "field.Notes": "Welcome!"}


def approval_flow(**policy: Any) -> dict[str, Any]:
    return {"start": "ask", "steps": {
        "ask": {"kind": "approval", "assignees": ["role:approver"], "instructions": "Hire Ada?",
                "due_in": "48h", "on_reject": "refused", "next": "after", **policy},
        "after": {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True},
        "refused": {"kind": "tool", "tool": "set", "args": {"refused": True}, "done": True}}}


@pytest.fixture
def client(world: Any) -> Iterator[TestClient]:
    api = create_api()
    api.include_router(router)  # as app/app.py does
    with TestClient(api, raise_server_exceptions=False) as http:
        yield http


@pytest.fixture
def bob(world: Any) -> str:
    """A second approver member (the world's admin starts the runs, so may not vote)."""
    with write_session() as session:
        user = accounts.create_user(session, email="bob@acme.test", password="password-b")
    with write_session() as session:
        accounts.add_member(session, workspace_id=world.workspace_id, user_id=user.id,
                            role=Role.APPROVER, actor=Actor.system("tests"))
    return user.id


def blocked(world: Any, **policy: Any) -> str:
    run_id = world.trigger(world.publish(approval_flow(**policy)))
    world.drain()
    assert world.run(run_id).status == RunStatus.BLOCKED
    return run_id


def link(world: Any, run_id: str, user_id: str) -> str:
    approval = world.approvals(run_id)[0]
    with read_session() as session:
        token = approval_links.make_link_token(session, actor=world.actor,
                                               approval_id=approval.id,
                                               approver_user_id=user_id)
    return approval_links.link_url(token)


def votes(world: Any, run_id: str) -> list[ApprovalVote]:
    approval = world.approvals(run_id)[0]
    with read_session() as session:
        return list(session.exec(select(ApprovalVote).where(
            ApprovalVote.approval_id == approval.id)).all())


def shown(html: str) -> str:
    """The page's text as a reader sees it (tags dropped, spaces collapsed)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


class _Page(HTMLParser):
    """The form's controls (by name) and each error's text (by the control it describes)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: dict[str, dict[str, str | None]] = {}
        self.options: dict[str, list[str]] = {}
        self.labels: list[str] = []
        self.errors: dict[str, str] = {}
        self._select: str | None = None
        self._text: list[str] | None = None
        self._error_of: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("input", "select", "textarea") and found.get("name"):
            self.controls[str(found["name"])] = {"tag": tag, **found}
            self._select = str(found["name"]) if tag == "select" else None
        if tag == "option" and self._select:
            self.options.setdefault(self._select, []).append(str(found.get("value")))
        if tag == "label" or (tag == "p" and found.get("class") == "error"):
            self._text = []
            self._error_of = str(found.get("id", "")).removesuffix("-error") or None \
                if tag == "p" else None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("label", "p") and self._text is not None:
            text = " ".join("".join(self._text).split())
            if self._error_of:
                self.errors[self._error_of] = text
            elif tag == "label":
                self.labels.append(text)
            self._text, self._error_of = None, None

    def control_id(self, name: str) -> str:
        return str(self.controls[name]["id"])


def test_get_shows_the_form_and_decides_nothing(world: Any, client: TestClient) -> None:
    run_id = blocked(world, mode="quorum", quorum=1)
    url = link(world, run_id, world.approver_id)
    for _ in range(3):
        page = client.get(url)
        assert page.status_code == 200 and "Approve or reject" in page.text
        assert "approver@acme.test" in page.text and "Hire Ada?" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text and "http" not in page.text.split("<body>")[0]
    assert "0 of 1 approvals" in page.text and "Due " in page.text
    assert world.approvals(run_id)[0].status == ApprovalStatus.PENDING
    assert votes(world, run_id) == []


def test_post_votes_and_the_run_moves_on(world: Any, client: TestClient) -> None:
    run_id = blocked(world)
    url = link(world, run_id, world.approver_id)
    done = client.post(url, data={"decision": "approved", "comment": "Welcome"})
    assert done.status_code == 200 and "You approved it" in done.text
    assert "Recorded: approved by approver@acme.test" in done.text
    world.drain()
    assert world.run(run_id).status == RunStatus.COMPLETED
    [vote] = votes(world, run_id)
    assert (vote.decision, vote.comment, vote.via) == ("approved", "Welcome", "link")


def test_in_a_quorum_each_link_is_used_up_by_its_own_voter(world: Any, client: TestClient,
                                                           bob: str) -> None:
    run_id = blocked(world, mode="quorum", quorum=2)
    first, second = link(world, run_id, world.approver_id), link(world, run_id, bob)
    assert client.post(first, data={"decision": "approved"}).status_code == 200
    assert world.approvals(run_id)[0].status == ApprovalStatus.PENDING

    shown = client.get(first)
    assert shown.status_code == 200 and "You already voted approved on" in shown.text
    assert "1 of 2 approvals" in shown.text and "<form" not in shown.text
    again = client.post(first, data={"decision": "rejected", "comment": "changed my mind"})
    assert again.status_code == 409
    assert "This link was already used: you voted approved on" in again.text
    assert [v.decision for v in votes(world, run_id)] == ["approved"]

    assert "1 of 2 approvals" in client.get(second).text and "<form" in client.get(second).text
    done = client.post(second, data={"decision": "approved"})
    assert done.status_code == 200 and "Recorded: approved by" in done.text
    world.drain()
    assert world.run(run_id).status == RunStatus.COMPLETED
    used = client.post(second, data={"decision": "approved"})
    assert used.status_code == 409 and "already used: the approval was approved" in used.text
    assert len(votes(world, run_id)) == 2


def test_a_delegates_link_is_used_up_by_the_vote_cast_for_the_delegator(
        world: Any, client: TestClient, bob: str) -> None:
    from app.services import approval_delegation

    run_id = blocked(world, mode="quorum", quorum=2)
    with write_session() as session:
        approval_delegation.delegate(session, actor=world.approver,
                                     approval_id=world.approvals(run_id)[0].id,
                                     to_email="bob@acme.test")
    delegators = link(world, run_id, world.approver_id)
    assert "You delegated this approval to bob@acme.test" in client.get(delegators).text
    delegates = link(world, run_id, bob)
    assert "voting for approver@acme.test" in shown(client.get(delegates).text)
    assert client.post(delegates, data={"decision": "approved"}).status_code == 200
    again = client.post(delegates, data={"decision": "approved"})
    assert again.status_code == 409 and "already used" in again.text
    assert [v.voter for v in votes(world, run_id)] == [f"user:{world.approver_id}"]


def test_the_form_renders_every_kind_of_approver_field(world: Any, client: TestClient) -> None:
    run_id = blocked(world, fields=EVERY_KIND)
    page = _Page(client.get(link(world, run_id, world.approver_id)).text)
    kinds = {name: (c["tag"], c.get("type")) for name, c in page.controls.items()}
    assert kinds == {
        "field.Start date": ("input", "date"), "field.Cost centre": ("select", None),
        "field.Laptop": ("input", "checkbox"), "field.Budget": ("input", "number"),
        "field.Seats": ("input", "number"), "field.Buddy": ("input", "email"),
        "field.Wiki": ("input", "url"), "field.Title": ("input", "text"),
        "field.Notes": ("textarea", None), "comment": ("textarea", None)}
    assert page.options["field.Cost centre"] == ["", "R&D", "Sales"]
    assert page.controls["field.Budget"]["step"] == "any"
    assert page.controls["field.Seats"]["step"] == "1"
    assert page.controls["field.Buddy"]["placeholder"] == "someone@acme.test"
    assert "required" in page.controls["field.Start date"]
    assert "required" not in page.controls["field.Title"]
    assert {"Start date *", "Cost centre *", "Order a laptop", "Budget"} <= set(page.labels)
    assert "Their first day" in client.get(link(world, run_id, world.approver_id)).text


def test_the_fields_as_typed_reach_the_vote(world: Any, client: TestClient) -> None:
    run_id = blocked(world, fields=EVERY_KIND)
    url = link(world, run_id, world.approver_id)
    assert client.post(url, data={"decision": "approved", **GOOD}).status_code == 200
    [vote] = votes(world, run_id)
    assert vote.fields == {"Start date": "2027-01-04", "Cost centre": "R&D", "Laptop": True,
                           "Budget": 1200.5, "Seats": 2, "Buddy": "ann@acme.test",
                           "Wiki": "https://wiki.acme.test/ada", "Title": "Engineer",
                           "Notes": "Welcome!"}


def test_an_unticked_checkbox_is_false(world: Any, client: TestClient) -> None:
    run_id = blocked(world, fields=EVERY_KIND)
    typed = {k: v for k, v in GOOD.items() if k != "field.Laptop"}
    client.post(link(world, run_id, world.approver_id), data={"decision": "approved", **typed})
    assert votes(world, run_id)[0].fields["Laptop"] is False


def test_a_bad_field_value_comes_back_next_to_its_field_and_records_nothing(
        world: Any, client: TestClient) -> None:
    run_id = blocked(world, fields=EVERY_KIND)
    url = link(world, run_id, world.approver_id)
    typed = {**GOOD, "field.Start date": "next week", "field.Seats": "2.5"}
    answer = client.post(url, data={"decision": "approved", "comment": "keep me", **typed})
    assert answer.status_code == 422
    page = _Page(answer.text)
    assert page.errors == {
        page.control_id("field.Start date"): "Start date must be a date as YYYY-MM-DD",
        page.control_id("field.Seats"): "Seats must be a whole number"}
    assert page.controls["field.Start date"]["aria-invalid"] == "true"
    assert "autofocus" in page.controls["field.Start date"]
    assert page.controls["field.Title"]["value"] == "Engineer"  # as typed
    assert "checked" in page.controls["field.Laptop"]
    assert re.search(r'<option value="R&amp;D" selected>', answer.text)
    assert ">keep me</textarea>" in answer.text
    assert votes(world, run_id) == []
    assert world.approvals(run_id)[0].status == ApprovalStatus.PENDING


def test_a_rejection_needs_a_comment_when_the_policy_says_so_but_no_fields(
        world: Any, client: TestClient) -> None:
    run_id = blocked(world, fields=EVERY_KIND, require_comment_on_reject=True)
    url = link(world, run_id, world.approver_id)
    assert "Comment (required to reject)" in client.get(url).text
    answer = client.post(url, data={"decision": "rejected", "field.Title": "typed"})
    assert answer.status_code == 422
    page = _Page(answer.text)
    assert page.errors == {"comment": "Comment is required to reject"}
    assert "autofocus" in page.controls["comment"]
    assert page.controls["field.Title"]["value"] == "typed"
    assert votes(world, run_id) == []

    done = client.post(url, data={"decision": "rejected", "comment": "Budget frozen"})
    assert done.status_code == 200 and "You rejected it" in done.text
    world.drain()
    assert world.run(run_id).outputs["refused"] == {"refused": True}


def test_a_link_its_approver_may_not_use_shows_no_form(world: Any, client: TestClient) -> None:
    run_id = blocked(world)
    mine = link(world, run_id, world.admin_id)  # the admin started the run
    page = client.get(mine)
    assert page.status_code == 403 and "<form" not in page.text
    assert "You started this run, so someone else must decide" in page.text
    assert client.post(mine, data={"decision": "approved"}).status_code == 403
    assert votes(world, run_id) == []


SIGNED = [{"name": "Signed copy", "type": "file", "required": True,
           "accept": ["application/pdf"]}, {"name": "Seats", "type": "integer"}]
PDF = b"%PDF-1.4\n" + b"x" * 64


def test_an_approver_file_field_takes_a_file_through_the_link(
        world: Any, client: TestClient) -> None:
    run_id = blocked(world, fields=SIGNED)
    url = link(world, run_id, world.approver_id)
    page = client.get(url)
    assert 'enctype="multipart/form-data"' in page.text
    assert _Page(page.text).controls["file.Signed copy"]["type"] == "file"
    # A PNG is refused next to the field; nothing is recorded.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    refused = client.post(url, data={"decision": "approved"},
                          files={"file.Signed copy": ("signed.pdf", png)})
    assert refused.status_code == 422 and "image/png" in shown(refused.text)
    # A good file with a bad other field: the file is kept (its id rides along) and shown.
    kept = client.post(url, data={"decision": "approved", "field.Seats": "2.5"},
                       files={"file.Signed copy": ("signed.pdf", PDF)})
    assert kept.status_code == 422 and "Attached: signed.pdf" in shown(kept.text)
    file_id = _Page(kept.text).controls["field.Signed copy"]["value"]
    assert str(file_id).startswith("fil_")
    done = client.post(url, data={"decision": "approved", "field.Seats": "2",
                                  "field.Signed copy": str(file_id)})
    assert done.status_code == 200, done.text
    [vote] = votes(world, run_id)
    assert vote.fields["Signed copy"]["name"] == "signed.pdf" and vote.fields["Seats"] == 2
    assert vote.fields["Signed copy"]["content_type"] == "application/pdf"
