"""Use cases behind seed 002's /v1 API: workflows as `nodes` and `edges`, runs as
executions with their statuses, credentials as integrations, and its webhook event names;
over the same services as /api/v1.

A definition's steps are its nodes (`id` the step key, `type` its kind, `data` the rest); its
way from step to step are the edges, labelled as the definition names them (`next`, `else`,
`on_reject`, `on_timeout`, or `if <condition>` for a branch). The first node starts the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from app import crypto
from app.errors import FieldError, ValidationFailed, not_found
from app.models import Actor, Credential, RunStatus, Workflow, WorkflowStatus
from app.repo import credentials as credentials_repo
from app.services import workflows

# Seed 002's execution statuses (pending, running, completed, failed), and cancelled.
EXECUTION_STATUS = {RunStatus.IN_PROGRESS: "running", RunStatus.BLOCKED: "pending",
                    RunStatus.COMPLETED: "completed", RunStatus.FLAGGED: "failed",
                    RunStatus.CANCELLED: "cancelled"}
RUN_STATUSES = {shown: status for status, shown in EXECUTION_STATUS.items()}
# Seed 002's event names for subscriptions; ours pass through unchanged.
EVENT_NAMES = {"workflow.executed": ("run.completed", "run.flagged")}
EDGE_FIELDS = {"next": "next", "else": "else", "on_reject": "on_reject",
               "on_timeout": "timeout_step"}
_EDGE_OF_FIELD = {field: label for label, field in EDGE_FIELDS.items()}
_NOT_DATA = {"kind", "done", "branches", *EDGE_FIELDS.values()}


def run_statuses(shown: str | None) -> str | None:
    """A `status` filter in seed 002's words as ours (comma-separated); 422 when unknown."""
    if not shown:
        return None
    if shown not in RUN_STATUSES:
        raise ValidationFailed("Invalid status", errors=[FieldError(
            "status", f"must be one of {', '.join(RUN_STATUSES)}")])
    return RUN_STATUSES[shown]


def subscribed_events(names: list[str]) -> list[str]:
    """Seed 002's event names (`workflow.executed`) as ours; ours are taken as they are."""
    found: list[str] = []
    for name in names:
        found.extend(EVENT_NAMES.get(name, (name,)))
    return list(dict.fromkeys(found))


# ---------------------------------------------------------------- nodes and edges


def graph_of(definition: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(nodes, edges) of a stored definition, the start node first."""
    steps = definition.get("steps") or {}
    layout = definition.get("layout") or {}
    start = definition.get("start")
    keys = sorted(steps, key=lambda key: key != start)
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for key in keys:
        step = steps[key] if isinstance(steps[key], Mapping) else {}
        node: dict[str, Any] = {"id": key, "type": step.get("kind", "tool"),
                                "data": {k: v for k, v in step.items() if k not in _NOT_DATA}}
        if key in layout:
            node["position"] = layout[key]
        nodes.append(node)
        for field, label in _EDGE_OF_FIELD.items():
            if isinstance(step.get(field), str):
                edges.append({"id": f"{key}:{label}", "source": key, "target": step[field],
                              "label": label})
        for i, branch in enumerate(step.get("branches") or []):
            if isinstance(branch, Mapping) and isinstance(branch.get("then"), str):
                edges.append({"id": f"{key}:if{i}", "source": key, "target": branch["then"],
                              "label": f"if {branch.get('if', '')}"})
    return nodes, edges


def _edge_problem(index: int, message: str) -> ValidationFailed:
    return ValidationFailed("Invalid edges", errors=[FieldError(f"edges[{index}]", message)])


def _add_edge(steps: dict[str, dict[str, Any]], index: int, edge: Any) -> None:
    if not isinstance(edge, Mapping) or not isinstance(edge.get("source"), str) \
            or not isinstance(edge.get("target"), str):
        raise _edge_problem(index, "needs a source and a target node id")
    source = steps.get(edge["source"])
    if source is None:
        raise _edge_problem(index, f"source '{edge['source']}' is not a node")
    label = str(edge.get("label") or ("if " + str(edge["condition"]) if edge.get("condition")
                                      else "next"))
    if label.startswith("if "):
        source.setdefault("branches", []).append({"if": label[3:], "then": edge["target"]})
        return
    field = EDGE_FIELDS.get(label)
    if field is None:
        raise _edge_problem(index, f"label must be one of {', '.join(EDGE_FIELDS)} or "
                                   "'if <condition>'")
    if field in source:
        raise _edge_problem(index, f"node '{edge['source']}' has two '{label}' edges")
    source[field] = edge["target"]


def definition_of(nodes: Any, edges: Any) -> dict[str, Any]:
    """A definition from seed 002's nodes and edges (the engine validates it as usual)."""
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise ValidationFailed("Invalid workflow", errors=[FieldError(
            "nodes" if not isinstance(nodes, list) else "edges", "must be a list")])
    steps: dict[str, dict[str, Any]] = {}
    layout: dict[str, Any] = {}
    for index, node in enumerate(nodes):
        if not isinstance(node, Mapping) or not isinstance(node.get("id"), str) \
                or not node["id"]:
            raise ValidationFailed("Invalid nodes", errors=[FieldError(
                f"nodes[{index}].id", "is required", "required")])
        data = node.get("data")
        steps[node["id"]] = {**(data if isinstance(data, Mapping) else {}),
                             "kind": node.get("type") or "tool"}
        if isinstance(node.get("position"), Mapping):
            layout[node["id"]] = node["position"]
    for index, edge in enumerate(edges):
        _add_edge(steps, index, edge)
    for step in steps.values():
        if step["kind"] != "branch" and not any(f in step for f in EDGE_FIELDS.values()):
            step["done"] = True
    if not steps:
        return {}
    definition: dict[str, Any] = {"start": next(iter(steps)), "steps": steps}
    return {**definition, "layout": layout} if layout else definition


def create_workflow(session: Session, *, workspace_id: str, actor: Actor, name: str,
                    description: str, nodes: Any, edges: Any) -> Workflow:
    """A draft from nodes and edges; with no nodes, an empty draft to build later."""
    definition = definition_of(nodes, edges)
    return workflows.create_workflow(session, workspace_id=workspace_id, actor=actor,
                                     title=name, description=description,
                                     definition=definition, allow_invalid=not definition)


def update_workflow(session: Session, *, workspace_id: str, workflow_id: str, actor: Actor,
                    changes: Mapping[str, Any]) -> Workflow:
    """Seed 002's PATCH: name, description, nodes and edges change the draft; `status:
    published` publishes it (`draft` once published is refused: versions are immutable)."""
    workflow = workflows.get_workflow(session, workspace_id=workspace_id,
                                      workflow_id=workflow_id)
    status = changes.get("status")
    if status == WorkflowStatus.DRAFT and workflow.status == WorkflowStatus.PUBLISHED:
        raise ValidationFailed("A published workflow cannot return to draft", errors=[
            FieldError("status", "a published workflow stays published; edit its draft "
                                 "and publish again")])
    graph = "nodes" in changes or "edges" in changes
    if graph or {"name", "description"} & set(changes):
        definition = None
        if graph:
            current_nodes, current_edges = graph_of(workflow.definition)
            definition = definition_of(changes.get("nodes", current_nodes),
                                       changes.get("edges", current_edges))
        workflow = workflows.save_workflow(
            session, workspace_id=workspace_id, workflow_id=workflow_id, actor=actor,
            expected_version=None, title=changes.get("name"),
            description=changes.get("description"), definition=definition)
    if status == WorkflowStatus.PUBLISHED:
        workflows.publish_workflow(session, workspace_id=workspace_id,
                                   workflow_id=workflow_id, actor=actor)
        workflow = workflows.get_workflow(session, workspace_id=workspace_id,
                                          workflow_id=workflow_id)
    return workflow


# ---------------------------------------------------------------- integrations


def integration(session: Session, *, workspace_id: str, integration_id: str) -> Credential:
    found = credentials_repo.find_credential(session, workspace_id=workspace_id,
                                             ref=integration_id)
    if found is None or found.id != integration_id:
        raise not_found("integration", integration_id)
    return found


def test_integration(session: Session, *, workspace_id: str,
                     integration_id: str) -> tuple[Credential, bool, str]:
    """Whether an integration (a stored credential) is usable: its secret decrypts with this
    server's key. No call goes out: a credential names no endpoint of its own."""
    found = integration(session, workspace_id=workspace_id, integration_id=integration_id)
    try:
        usable = bool(crypto.decrypt(found.value_encrypted))
    except crypto.DecryptionFailed:
        usable = False
    message = ("The stored secret is readable; steps using it will send it." if usable else
               "The stored secret cannot be read with this server's key; store it again.")
    return found, usable, message
