// The workflow builder's canvas: React Flow (@xyflow/react) with our step node.
// Nodes and edges come from the Python state; drags stay local until they end, so moving a
// node is smooth, and only the final position (and every connect/delete) goes to the server.
import React, { useCallback, useEffect, useRef, useState } from "react";
import {
  ReactFlow,
  Background,
  Controls,
  Handle,
  Position,
  MarkerType,
  applyNodeChanges,
} from "@xyflow/react";
import {
  FileInput,
  Globe,
  Wrench,
  GitBranch,
  UserCheck,
  RadioTower,
  Timer,
  Workflow,
  CircleHelp,
  TriangleAlert,
} from "lucide-react";
import "@xyflow/react/dist/style.css";
import "./flow_canvas.css";

const ICONS = {
  input: FileInput,
  http: Globe,
  tool: Wrench,
  branch: GitBranch,
  approval: UserCheck,
  signal: RadioTower,
  delay: Timer,
  subworkflow: Workflow,
};

const KIND_COLORS = {
  input: "#0ea5e9",
  http: "#6366f1",
  tool: "#14b8a6",
  branch: "#f59e0b",
  approval: "#22c55e",
  signal: "#a855f7",
  delay: "#64748b",
  subworkflow: "#ec4899",
};

const PORT_COLORS = { on_reject: "#ef4444", else: "#94a3b8" };

function StepNode({ data, selected }) {
  const Icon = ICONS[data.kind] || CircleHelp;
  const color = KIND_COLORS[data.kind] || "#64748b";
  const problems = data.problems || [];
  const ports = data.ports || [];
  const border = problems.length ? "#ef4444" : selected ? "#4f46e5" : "#d4d4d8";
  return (
    <div
      className="fd-node"
      data-testid={`node-${data.key}`}
      data-problems={problems.length}
      title={problems.join("\n")}
      style={{
        width: 220,
        background: "white",
        border: `2px solid ${border}`,
        borderRadius: 10,
        boxShadow: selected ? "0 0 0 3px rgba(79,70,229,0.25)" : "0 1px 3px rgba(0,0,0,0.12)",
        fontFamily: "inherit",
        fontSize: 13,
        position: "relative",
      }}
    >
      <Handle type="target" position={Position.Top} id="in" className="fd-handle-in" />
      {data.start ? <div className="fd-start-badge">START</div> : null}
      <div style={{ display: "flex", alignItems: "center", gap: 8, padding: "8px 10px 4px" }}>
        <span
          style={{
            display: "inline-flex",
            background: color,
            color: "white",
            borderRadius: 6,
            padding: 4,
          }}
        >
          <Icon size={16} />
        </span>
        <div style={{ minWidth: 0, flex: 1 }}>
          <div className="fd-node-title">{data.title}</div>
          <div className="fd-node-sub">
            {data.key} · {data.kind}
          </div>
        </div>
        {problems.length ? (
          <span className="fd-node-problem" data-testid={`node-problem-${data.key}`}>
            <TriangleAlert size={14} />
            {problems.length}
          </span>
        ) : null}
      </div>
      <div className="fd-ports">
        {ports.map((port) => (
          <div key={port.id} className="fd-port" data-port={port.id}>
            <span className="fd-port-label">{port.label}</span>
            <Handle
              type="source"
              position={Position.Bottom}
              id={port.id}
              data-testid={`handle-${data.key}-${port.id}`}
              className="fd-handle-out"
              style={{ background: PORT_COLORS[port.id] || color }}
            />
          </div>
        ))}
      </div>
    </div>
  );
}

const NODE_TYPES = { step: StepNode };
const FIT_VIEW = { padding: 0.15, maxZoom: 1 };
const DEFAULT_EDGE = {
  markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18 },
  labelBgPadding: [6, 3],
  labelBgBorderRadius: 4,
};

export function FlowCanvas({
  nodes: nodesIn,
  edges: edgesIn,
  readOnly,
  onNodeSelect,
  onPaneSelect,
  onEdgeSelect,
  onNodeMoved,
  onConnectPort,
  onReconnectEdge,
  onEdgesRemoved,
  onNodesRemoved,
}) {
  const [nodes, setNodes] = useState(nodesIn || []);
  const incoming = useRef("");
  const flow = useRef(null);
  const count = useRef((nodesIn || []).length);
  useEffect(() => {
    const text = JSON.stringify(nodesIn || []);
    if (text !== incoming.current) {
      incoming.current = text;
      setNodes(nodesIn || []);
      const n = (nodesIn || []).length;
      if (n !== count.current) {
        // A step was added or removed: keep every step in view (after React Flow measured it).
        count.current = n;
        setTimeout(() => flow.current && flow.current.fitView(FIT_VIEW), 60);
      }
    }
  }, [nodesIn]);
  const edges = (edgesIn || []).map((edge) => ({ ...DEFAULT_EDGE, ...edge }));
  const reconnected = useRef(true);

  const onNodesChange = useCallback(
    (changes) => setNodes((current) => applyNodeChanges(changes, current)),
    [],
  );
  const onNodeDragStop = useCallback(
    (_event, node, dragged) => {
      const moved = dragged && dragged.length ? dragged : [node];
      moved.forEach((n) => onNodeMoved && onNodeMoved(n.id, n.position.x, n.position.y));
    },
    [onNodeMoved],
  );
  const onConnect = useCallback(
    (c) => onConnectPort && onConnectPort(c.source, c.sourceHandle || "next", c.target),
    [onConnectPort],
  );
  const onReconnectStart = useCallback(() => {
    reconnected.current = false;
  }, []);
  const onReconnect = useCallback(
    (oldEdge, c) => {
      reconnected.current = true;
      onReconnectEdge &&
        onReconnectEdge(oldEdge.id, c.source, c.sourceHandle || "next", c.target);
    },
    [onReconnectEdge],
  );
  const onReconnectEnd = useCallback(
    (_event, edge) => {
      // Dropping a dragged edge end on the empty canvas removes the link.
      if (!reconnected.current && onEdgesRemoved) onEdgesRemoved([edge.id]);
      reconnected.current = true;
    },
    [onEdgesRemoved],
  );
  const onDelete = useCallback(
    ({ nodes: gone, edges: cut }) => {
      if (gone.length && onNodesRemoved) onNodesRemoved(gone.map((n) => n.id));
      const orphan = cut.filter(
        (e) => !gone.some((n) => n.id === e.source || n.id === e.target),
      );
      if (orphan.length && onEdgesRemoved) onEdgesRemoved(orphan.map((e) => e.id));
    },
    [onNodesRemoved, onEdgesRemoved],
  );

  return (
    <ReactFlow
      nodes={nodes}
      edges={edges}
      nodeTypes={NODE_TYPES}
      onNodesChange={onNodesChange}
      onNodeDragStop={readOnly ? undefined : onNodeDragStop}
      onConnect={readOnly ? undefined : onConnect}
      onReconnectStart={onReconnectStart}
      onReconnect={readOnly ? undefined : onReconnect}
      onReconnectEnd={onReconnectEnd}
      onDelete={readOnly ? undefined : onDelete}
      onNodeClick={(_e, node) => onNodeSelect && onNodeSelect(node.id)}
      onEdgeClick={(_e, edge) => onEdgeSelect && onEdgeSelect(edge.id)}
      onPaneClick={() => onPaneSelect && onPaneSelect()}
      nodesDraggable={!readOnly}
      nodesConnectable={!readOnly}
      edgesReconnectable={!readOnly}
      deleteKeyCode={readOnly ? null : ["Backspace", "Delete"]}
      onInit={(instance) => {
        flow.current = instance;
      }}
      fitView
      fitViewOptions={FIT_VIEW}
      minZoom={0.2}
      proOptions={{ hideAttribution: true }}
    >
      <Background gap={20} size={1} />
      <Controls showInteractive={false} />
    </ReactFlow>
  );
}
