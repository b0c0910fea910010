"""The builder's canvas: our React Flow wrapper (assets/flow_canvas.jsx) as a Reflex component.

The JSX keeps node positions locally while dragging and reports only high-level edits: a node
selected or moved, a port connected to a step, an edge moved or removed, steps deleted.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import no_args_event_spec, passthrough_event_spec

XYFLOW = "@xyflow/react@12.12.1"
LUCIDE = "lucide-react@1.26.0"
CANVAS_HEIGHT = "calc(100vh - 150px)"


class FlowCanvas(rx.NoSSRComponent):
    """React Flow with step nodes (kind icon, title, problems badge, one handle per port)."""

    library = "$/public/flow_canvas.jsx"
    tag = "FlowCanvas"
    lib_dependencies: list[str] = [XYFLOW, LUCIDE]

    nodes: rx.Var[list[dict[str, Any]]]
    edges: rx.Var[list[dict[str, Any]]]
    read_only: rx.Var[bool]

    on_node_select: rx.EventHandler[passthrough_event_spec(str)]
    on_edge_select: rx.EventHandler[passthrough_event_spec(str)]
    on_pane_select: rx.EventHandler[no_args_event_spec]
    on_node_moved: rx.EventHandler[passthrough_event_spec(str, float, float)]
    on_connect_port: rx.EventHandler[passthrough_event_spec(str, str, str)]
    on_reconnect_edge: rx.EventHandler[passthrough_event_spec(str, str, str, str)]
    on_edges_removed: rx.EventHandler[passthrough_event_spec(list[str])]
    on_nodes_removed: rx.EventHandler[passthrough_event_spec(list[str])]


def flow_canvas(height: str = CANVAS_HEIGHT, **props: Any) -> rx.Component:
    """The canvas in a box of fixed height (React Flow needs a sized parent)."""
    return rx.box(
        FlowCanvas.create(**props),
        height=height,
        min_height="420px",
        width="100%",
        border="1px solid var(--gray-a5)",
        border_radius="var(--radius-3)",
        background="var(--gray-1)",
        overflow="hidden",
        data_testid="flow-canvas",
    )
