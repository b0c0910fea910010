"""Harmless stand-ins for the tools seed 004's documented flows call, so its curl examples run
as written: greetings, a counter, a small in-memory knowledge base and an admin check.

They touch nothing outside the process. A deployment with real implementations registers its
own under the same names from a module listed in TOOL_MODULES (imported later, so it wins).
"""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

from app.engine.tools import ToolCall, ToolError, register

_counter = itertools.count(1)
_knowledge_lock = threading.Lock()
# (title, content, scope): a few entries so that a search finds something on a fresh start.
_KNOWLEDGE: list[tuple[str, str, str]] = [
    ("Access Control", "Who may read, write and approve: access control permissions per "
                       "role and scope.", "general"),
    ("Approvals", "Approval gates wait for a person before a run continues.", "general"),
    ("Webhooks", "Signed webhook deliveries report run events to other systems.", "general"),
]
MAX_KNOWLEDGE = 1000
_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


@register("get_greeting", description="Demo: greet `name` (default: there).")
def get_greeting(args: dict[str, Any], _call: ToolCall) -> Any:
    name = str(args.get("name") or "there")
    return {"greeting": f"Hello, {name}!"}


@register("get_counter", description="Demo: a counter that goes up by one per call "
                                     "(per process).")
def get_counter(_args: dict[str, Any], _call: ToolCall) -> Any:
    return {"count": next(_counter)}


@register("knowledge_search", description="Demo: search a small in-memory knowledge base "
                                          "for `query`; returns [{title, score}].")
def knowledge_search(args: dict[str, Any], _call: ToolCall) -> Any:
    wanted = _words(str(args.get("query") or ""))
    if not wanted:
        return []
    with _knowledge_lock:
        entries = list(_KNOWLEDGE)
    hits: list[dict[str, Any]] = []
    for title, content, _scope in entries:
        found = _words(f"{title} {content}")
        score = len(wanted & found) / len(wanted)
        if score > 0:
            hits.append({"title": title, "score": round(score, 2)})
    return sorted(hits, key=lambda hit: (-hit["score"], hit["title"]))[:10]


@register("knowledge_add", description="Demo: add {title, content, scope} to the in-memory "
                                       "knowledge base.")
def knowledge_add(args: dict[str, Any], _call: ToolCall) -> Any:
    title = str(args.get("title") or "").strip()
    if not title:
        raise ToolError("knowledge_add: 'title' is required", retryable=False)
    scope = str(args.get("scope") or "general")
    with _knowledge_lock:
        if len(_KNOWLEDGE) >= MAX_KNOWLEDGE:
            del _KNOWLEDGE[3]
        _KNOWLEDGE.append((title, str(args.get("content") or ""), scope))
    return {"added": True, "title": title, "scope": scope}


@register("is_admin", description="Demo: true when the `admin` argument (or the run input's "
                                  "`admin`) is true.")
def is_admin(args: dict[str, Any], call: ToolCall) -> Any:
    flag = args.get("admin", call.input.get("admin", False))
    return flag is True or str(flag).lower() in {"true", "1", "yes"}
