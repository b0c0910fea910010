"""The builder's editing half (a state mixin): the draft definition, the selection, live
validation, and every edit the canvas and the step panel make.

Edits go through the pure helpers (app/ui/builder_graph.py, builder_edits.py); after each one
the draft is checked by the workflow service (the API's own validation) and the problems land
on the nodes and in the problems list.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.db import read_session
from app.services import workflows
from app.ui import builder_edits as edits
from app.ui import builder_graph as graph
from app.ui.states.auth import call_service


def check_draft(workspace_id: str, workflow_id: str, definition: dict[str, Any]) -> list[dict]:
    """Every problem of a draft, as the API would report it, with the step it points into."""
    with read_session() as session:
        _, problems = workflows.check_definition(session, workspace_id=workspace_id,
                                                 raw=definition, self_id=workflow_id or None)
    rows = []
    for problem in problems:
        key, rest = graph.step_of_path(problem.field)
        rows.append({"field": problem.field, "message": problem.message, "step": key or "",
                     "where": rest.lstrip(".") if key else problem.field})
    return rows


class BuilderEditing(rx.State, mixin=True):
    definition: dict[str, Any] = {}
    # What the canvas shows instead of the draft while a published version is open read-only.
    view_definition: dict[str, Any] = {}
    read_only: bool = False
    selected: str = ""
    selected_edge: str = ""
    problems: list[dict[str, str]] = []
    edit_error: str = ""
    wf_id: str = ""

    # ----- what the canvas and panel show -----
    @rx.var
    def shown(self) -> dict[str, Any]:
        return self.view_definition if self.read_only else self.definition

    @rx.var
    def nodes(self) -> list[dict[str, Any]]:
        problems = {} if self.read_only else graph.problems_by_step(self.problems)
        return graph.to_nodes(self.shown, problems, self.selected)

    @rx.var
    def edges(self) -> list[dict[str, Any]]:
        found = graph.to_edges(self.shown)
        for edge in found:
            edge["selected"] = edge["id"] == self.selected_edge
        return found

    @rx.var
    def problem_count(self) -> int:
        return len(self.problems)

    @rx.var
    def step_count(self) -> int:
        return len(graph.steps_of(self.shown))

    def _step(self) -> dict[str, Any]:
        step = graph.steps_of(self.shown).get(self.selected)
        return step if isinstance(step, dict) else {}

    @rx.var
    def has_selection(self) -> bool:
        return self.selected in graph.steps_of(self.shown)

    @rx.var
    def sel_text(self) -> dict[str, str]:
        return edits.text_view(self._step())

    @rx.var
    def sel_is_start(self) -> bool:
        return self.has_selection and self.shown.get("start") == self.selected

    @rx.var
    def sel_fields(self) -> list[dict[str, str]]:
        return edits.field_rows(self._step().get("fields"))

    @rx.var
    def sel_entries(self) -> dict[str, list[dict[str, str]]]:
        step = self._step()
        return {prop: edits.entries(step, prop) for prop in edits.MAPPING_PROPS}

    @rx.var
    def sel_branches(self) -> list[dict[str, str]]:
        return edits.branch_rows(self._step())

    @rx.var
    def sel_assignees(self) -> list[str]:
        return [a for a in self._step().get("assignees") or [] if isinstance(a, str)]

    @rx.var
    def sel_problems(self) -> list[str]:
        return [f"{p['where']}: {p['message']}" if p["where"] else p["message"]
                for p in self.problems if p["step"] == self.selected and self.selected]

    @rx.var
    def sel_names(self) -> list[str]:
        return graph.template_names(self.shown, self.selected) if self.has_selection else []

    @rx.var
    def targets(self) -> list[dict[str, str]]:
        """Options of the link selects: end the run, or any other step."""
        options = [{"value": edits.END_CHOICE, "label": "End the run"}]
        for key, step in graph.steps_of(self.shown).items():
            if key != self.selected:
                title = step.get("title") if isinstance(step, dict) else None
                label = f"{title} ({key})" if title and title != key else key
                options.append({"value": key, "label": label})
        return options

    @rx.var
    def timeout_choices(self) -> list[dict[str, str]]:
        """What an approval's timeout may do: reject, approve, or go to another step."""
        steps = [o for o in self.targets if o["value"] != edits.END_CHOICE]
        return [{"value": "reject", "label": "Reject"}, {"value": "approve", "label": "Approve"},
                *[{"value": o["value"], "label": f"Go to {o['label']}"} for o in steps]]

    # ----- selection -----
    @rx.event
    def select_node(self, key: str) -> None:
        self.selected = key
        self.selected_edge = ""
        self.edit_error = ""

    @rx.event
    def select_edge(self, ident: str) -> None:
        self.selected_edge = ident
        self.selected = ""

    @rx.event
    def clear_selection(self) -> None:
        self.selected = ""
        self.selected_edge = ""

    # ----- applying an edit -----
    async def _apply(self, definition: dict[str, Any]) -> None:
        if self.read_only:
            return
        self.definition = definition
        self.edit_error = ""
        self.problems = await call_service(check_draft, self.workspace_id, self.wf_id,
                                           definition)

    async def _apply_step(self, step: dict[str, Any]) -> None:
        if self.has_selection:
            steps = dict(graph.steps_of(self.definition))
            steps[self.selected] = step
            await self._apply({**self.definition, "steps": steps})

    # ----- canvas edits -----
    @rx.event
    def node_moved(self, key: str, x: float, y: float) -> None:
        if not self.read_only and key in graph.steps_of(self.definition):
            self.definition = graph.move_step(self.definition, key, x, y)

    @rx.event
    async def connect_port(self, source: str, port: str, target: str) -> None:
        try:
            await self._apply(graph.connect(self.definition, source, port, target))
        except ValueError as exc:
            self.edit_error = str(exc)

    @rx.event
    async def reconnect_edge(self, ident: str, source: str, port: str, target: str) -> None:
        try:
            await self._apply(graph.reconnect(self.definition, ident, source, port, target))
        except ValueError as exc:
            self.edit_error = str(exc)

    @rx.event
    async def edges_removed(self, idents: list[str]) -> None:
        definition = self.definition
        for ident in idents:
            definition = graph.disconnect(definition, ident)
        self.selected_edge = ""
        await self._apply(definition)

    @rx.event
    async def nodes_removed(self, keys: list[str]) -> None:
        definition = self.definition
        for key in keys:
            definition = graph.remove_step(definition, key)
        if self.selected in keys:
            self.selected = ""
        await self._apply(definition)

    @rx.event
    async def add_step(self, kind: str) -> None:
        definition, key = graph.add_step(self.definition, kind, after=self.selected or None)
        self.selected = key
        self.selected_edge = ""
        await self._apply(definition)

    @rx.event
    async def delete_selected(self) -> None:
        if self.selected_edge:
            await self.edges_removed([self.selected_edge])
        elif self.has_selection:
            await self.nodes_removed([self.selected])

    @rx.event
    async def rename_selected(self, new_key: str) -> None:
        if not self.has_selection or new_key.strip() == self.selected:
            return
        try:
            definition = graph.rename_step(self.definition, self.selected, new_key)
        except ValueError as exc:
            self.edit_error = str(exc)
            return
        self.selected = new_key.strip()
        await self._apply(definition)

    @rx.event
    async def make_start(self) -> None:
        if self.has_selection:
            await self._apply({**self.definition, "start": self.selected})

    # ----- step panel edits -----
    @rx.event
    async def set_text(self, name: str, value: str) -> None:
        await self._apply_step(edits.set_text(self._step(), name, value))

    @rx.event
    async def set_target(self, port: str, target: str) -> None:
        await self._apply_step(edits.set_target(self._step(), port, target))

    @rx.event
    async def set_flag(self, name: str, on: bool) -> None:
        await self._apply_step(edits.set_flag(self._step(), name, on))

    @rx.event
    async def set_done(self, done: bool) -> None:
        await self._apply_step(edits.set_done(self._step(), done))

    @rx.event
    async def set_body(self, text: str) -> None:
        await self._apply_step(edits.set_body(self._step(), text))

    @rx.event
    async def add_entry(self, prop: str) -> None:
        await self._apply_step(edits.add_entry(self._step(), prop))

    @rx.event
    async def set_entry_key(self, prop: str, index: int, key: str) -> None:
        await self._apply_step(edits.set_entry_key(self._step(), prop, index, key))

    @rx.event
    async def set_entry_value(self, prop: str, index: int, value: str) -> None:
        await self._apply_step(edits.set_entry_value(self._step(), prop, index, value))

    @rx.event
    async def remove_entry(self, prop: str, index: int) -> None:
        await self._apply_step(edits.remove_entry(self._step(), prop, index))

    @rx.event
    async def edit_branch(self, action: str, index: int, value: str) -> None:
        await self._apply_step(edits.edit_branches(self._step(), action, index, value))

    @rx.event
    async def edit_assignee(self, action: str, value: str, index: int) -> None:
        await self._apply_step(edits.edit_assignees(self._step(), action, value, index))

    @rx.event
    async def edit_field(self, action: str, index: int, prop: str, value: Any) -> None:
        step = dict(self._step())
        step["fields"] = edits.edit_fields(step.get("fields"), action, index, prop, value)
        await self._apply_step(step)

    @rx.event
    async def insert_name(self, target: str, name: str) -> None:
        """Append a template name to a property (`url`) or a row's value (`args:2`)."""
        step = self._step()
        prop, _, index = target.partition(":")
        if prop == "if":
            rows = edits.branch_rows(step)
            if index.isdigit() and int(index) < len(rows):
                text = edits.insert_name(rows[int(index)]["if"], name, bare=True)
                await self._apply_step(edits.edit_branches(step, "if", int(index), text))
        elif prop in edits.MAPPING_PROPS and index.isdigit():
            rows = edits.entries(step, prop)
            if int(index) < len(rows):
                text = edits.insert_name(rows[int(index)]["value"], name)
                await self._apply_step(edits.set_entry_value(step, prop, int(index), text))
        elif prop == "body":
            await self._apply_step(edits.set_body(step, edits.insert_name(
                edits.body_text(step.get("body")), name)))
        else:
            text = edits.insert_name(edits.text_view(step).get(prop, ""), name)
            await self._apply_step(edits.set_text(step, prop, text))
