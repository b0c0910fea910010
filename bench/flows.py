"""The workflow definitions the scenarios run: no-op chains and an approval."""

from __future__ import annotations

from typing import Any


def noop_chain(steps: int) -> dict[str, Any]:
    """`steps` sequential `set` tool steps: nothing but the engine's own work."""
    keys = [f"s{i}" for i in range(steps)]
    return {"start": keys[0], "steps": {
        key: {"kind": "tool", "tool": "set", "args": {"i": i},
              **({"next": keys[i + 1]} if i + 1 < steps else {"done": True})}
        for i, key in enumerate(keys)}}


AFTER_APPROVAL = "after"


def approval_then_step() -> dict[str, Any]:
    """A human decision, then one `set` step (whose start ends the measured interval). The
    bench triggers and decides with one API key: the step lets its requester decide (else
    every decision is a 403, separation of duties)."""
    return {"start": "decide", "steps": {
        "decide": {"kind": "approval", "assignees": ["role:approver"],
                   "instructions": "benchmark", "allow_requester": True,
                   "next": AFTER_APPROVAL},
        AFTER_APPROVAL: {"kind": "tool", "tool": "set", "args": {"ok": True}, "done": True},
    }}


def input_then_noops(steps: int) -> dict[str, Any]:
    """An input step (one required field) and then `steps` no-op `set` steps: the workflow
    of issue 13's side-by-side run-and-wait measurement."""
    chain = noop_chain(steps)
    return {"start": "intake", "steps": {
        "intake": {"kind": "input", "fields": [{"name": "name", "required": True}],
                   "next": chain["start"]},
        **chain["steps"]}}
