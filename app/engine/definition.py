"""Workflow definitions: step schemas, whole-definition validation and the seed-004 import."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from app.engine.fields import FieldSpec, field_list_problems, is_email
from app.engine.templating import condition_problem, template_problem
from app.errors import FieldError, ValidationFailed

# An edge to "end" ends the run, unless a step is really called "end" (DESIGN §3's example
# routes `else` there without defining it). Parsing turns such edges into None (no edge).
END = "end"
STEP_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
ROLES = ("admin", "builder", "approver", "viewer")
# A cycle is only legitimate when something in it waits for a person, a signal or the clock;
# otherwise the executor would spin on it forever.
WAITING_KINDS = frozenset({"approval", "signal", "delay"})
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 300.0
HTTP_DEFAULT_ATTEMPTS = 3
SEED_START_MESSAGE = "Flow must have a 'start' key"
SEED_BRANCH_SUFFIX = "__branch"
_SEED_STEP_KEYS = frozenset({"name", "tool", "args", "next", "done", "branch"})
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "90s", "5m", "48h", "2d" or "1h30m"."""
    compact = re.sub(r"\s+", "", text.lower()) if isinstance(text, str) else ""
    if not _DURATION.fullmatch(compact):
        raise ValueError(
            f"invalid duration {text!r}: expected a number and a unit (s, m, h, d, w), "
            "such as '90s', '5m', '48h', '2d' or '1h30m'"
        )
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(compact))


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


def _check_datetime(text: str) -> str:
    # A templated `until` ("{{ input.start_at }}") is only known when the step runs.
    if "{{" not in text and "{%" not in text:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"invalid date-time {text!r}: expected ISO 8601") from None
    return text


TIMEOUT_DECISIONS = {"reject": "rejected", "approve": "approved"}  # on_timeout's own words


def _check_assignee(text: str) -> str:
    kind, _, rest = text.partition(":")
    if kind == "role" and rest in ROLES:
        return text
    if (kind == "user" and is_email(rest)) or is_email(text):
        return text
    raise ValueError(
        f"invalid assignee {text!r}: expected 'role:<{'|'.join(ROLES)}>', "
        "'user:<email>' or an email address"
    )


class _Model(BaseModel):
    # extra="forbid" so that a typo ("nxt") is reported instead of silently ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RetryPolicy(_Model):
    max_attempts: int = Field(1, ge=1, le=20)
    backoff_s: float = Field(2.0, ge=0)
    max_backoff_s: float = Field(300.0, ge=0)


class _StepBase(_Model):
    title: str | None = None
    description: str | None = None
    done: bool = False


class _LinearStep(_StepBase):
    next: str | None = None

    @model_validator(mode="after")
    def _next_or_done(self) -> _LinearStep:
        if self.next is not None and self.done:
            raise ValueError("a step cannot have both 'next' and 'done: true'")
        return self


class InputStep(_LinearStep):
    kind: Literal["input"] = "input"
    fields: list[FieldSpec]


class HttpStep(_LinearStep):
    kind: Literal["http"] = "http"
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    url: str = Field(min_length=1)
    headers: dict[str, str] = {}
    body: Any = None
    # part name → a file (a template such as "{{ input.receipt }}" giving a file field's
    # value, or a file id): the request goes as multipart/form-data, `body` (an object) as
    # its text parts
    files: dict[str, str] = Field(default_factory=dict, max_length=20)
    query: dict[str, Any] = {}
    credential: str | None = None
    timeout_s: float = Field(DEFAULT_TIMEOUT_S, gt=0, le=MAX_TIMEOUT_S)
    retry: RetryPolicy = Field(
        default_factory=lambda: RetryPolicy(max_attempts=HTTP_DEFAULT_ATTEMPTS)
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, method: Any) -> Any:
        return method.upper() if isinstance(method, str) else method

    @field_validator("retry", mode="before")
    @classmethod
    def _http_retries_by_default(cls, retry: Any) -> Any:
        # Network calls are worth retrying even when only the backoff was given.
        if isinstance(retry, Mapping) and "max_attempts" not in retry:
            return {**retry, "max_attempts": HTTP_DEFAULT_ATTEMPTS}
        return retry


class ToolStep(_LinearStep):
    kind: Literal["tool"] = "tool"
    tool: str = Field(min_length=1)
    args: dict[str, Any] = {}
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_s: float = Field(DEFAULT_TIMEOUT_S, gt=0, le=MAX_TIMEOUT_S)


class Branch(_Model):
    if_: str = Field(alias="if", min_length=1)
    then: str | None  # None (or "end") ends the run when the condition holds


class BranchStep(_StepBase):
    kind: Literal["branch"] = "branch"
    branches: list[Branch] = Field(min_length=1)
    else_: str | None = Field(None, alias="else")


class ApprovalStep(_LinearStep):
    """A person (or several) decides. `mode`: `any` (the first decision wins), `all` (every
    listed assignee approves; one rejection rejects) or `quorum` (`quorum` approvals approve;
    it rejects once approval can no longer reach them). `fields`: what an approver must fill
    to approve (the same kinds as an input step), in the step's output as `fields`."""

    kind: Literal["approval"] = "approval"
    assignees: list[Annotated[str, AfterValidator(_check_assignee)]] = Field(min_length=1)
    instructions: str = ""
    due_in: Annotated[str, AfterValidator(_check_duration)] | None = None
    on_reject: str | None = None
    mode: Literal["any", "all", "quorum"] = "any"
    quorum: int | None = Field(None, ge=1, le=100)
    allow_requester: bool = False
    require_comment_on_reject: bool = False
    fields: list[FieldSpec] = Field(default_factory=list, max_length=50)
    # time: reminders while it waits, escalation (more assignees), and what a timeout does
    remind_every: Annotated[str, AfterValidator(_check_duration)] | None = None
    escalate_after: Annotated[str, AfterValidator(_check_duration)] | None = None
    escalate_to: list[Annotated[str, AfterValidator(_check_assignee)]] = Field(
        default_factory=list, max_length=50)
    on_timeout: str | None = Field(None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _quorum_with_its_mode(self) -> ApprovalStep:
        if self.mode == "quorum" and self.quorum is None:
            raise ValueError("mode 'quorum' needs 'quorum': the number of approvals required")
        if self.mode != "quorum" and self.quorum is not None:
            raise ValueError("'quorum' applies only with mode 'quorum'")
        named = {a.lower() for a in (*self.assignees, *self.escalate_to)}
        if self.quorum is not None and not any(a.startswith("role:") for a in named) \
                and self.quorum > len(named):
            raise ValueError(f"a quorum of {self.quorum} cannot be reached by "
                             f"{len(named)} named assignee(s): name more, or a role")
        if (self.escalate_after is None) != (not self.escalate_to):
            raise ValueError("'escalate_after' and 'escalate_to' go together: when, and to whom")
        if self.on_timeout is not None and self.due_in is None:
            raise ValueError("'on_timeout' needs 'due_in': the time after which it applies")
        return self

    @property
    def timeout_step(self) -> str | None:
        """The step `on_timeout` goes to, when it names one (not `reject` or `approve`)."""
        return None if self.on_timeout in (None, *TIMEOUT_DECISIONS) else self.on_timeout


class SignalStep(_LinearStep):
    kind: Literal["signal"] = "signal"
    instructions: str = ""


class DelayStep(_LinearStep):
    kind: Literal["delay"] = "delay"
    duration: Annotated[str, AfterValidator(_check_duration)] | None = None
    until: Annotated[str, AfterValidator(_check_datetime)] | None = None

    @model_validator(mode="after")
    def _exactly_one_wait(self) -> DelayStep:
        if (self.duration is None) == (self.until is None):
            raise ValueError("a delay step needs exactly one of 'duration' or 'until'")
        return self


class SubworkflowStep(_LinearStep):
    kind: Literal["subworkflow"] = "subworkflow"
    workflow_id: str = Field(min_length=1)
    input: dict[str, Any] = {}


AnyStep = (
    InputStep
    | HttpStep
    | ToolStep
    | BranchStep
    | ApprovalStep
    | SignalStep
    | DelayStep
    | SubworkflowStep
)
Step = Annotated[AnyStep, Field(discriminator="kind")]
STEP_MODELS: dict[str, type[AnyStep]] = {
    "input": InputStep,
    "http": HttpStep,
    "tool": ToolStep,
    "branch": BranchStep,
    "approval": ApprovalStep,
    "signal": SignalStep,
    "delay": DelayStep,
    "subworkflow": SubworkflowStep,
}


class LayoutPoint(_Model):
    x: float
    y: float


class _TopLevel(_Model):
    start: str = Field(min_length=1)
    layout: dict[str, LayoutPoint] = {}
    max_duration_s: float | None = Field(None, gt=0)


class Definition(_TopLevel):
    steps: dict[str, Step]

    @model_validator(mode="after")
    def _end_edges_end_the_run(self) -> Definition:
        # The executor then needs one rule only: no target means the run is complete.
        if END not in self.steps:
            for step in self.steps.values():
                _drop_end_edges(step)
        return self


def _drop_end_edges(step: AnyStep) -> None:
    if isinstance(step, BranchStep):
        for branch in step.branches:
            branch.then = None if branch.then == END else branch.then
        step.else_ = None if step.else_ == END else step.else_
        return
    step.next = None if step.next == END else step.next
    if isinstance(step, ApprovalStep):
        step.on_reject = None if step.on_reject == END else step.on_reject


class _Envelope(_TopLevel):
    """The top level alone, so that step problems are reported per step, not by the union."""

    steps: dict[str, Any]


# ---------------------------------------------------------------- edges


def _edges(step: AnyStep) -> list[tuple[str, str, str]]:
    """(label, path inside the step, target) for every outgoing edge."""
    if isinstance(step, BranchStep):
        edges = [
            (f"if {b.if_}", f"branches[{i}].then", b.then)
            for i, b in enumerate(step.branches)
            if b.then is not None
        ]
        return edges + ([("else", "else", step.else_)] if step.else_ is not None else [])
    edges = [("next", "next", step.next)] if step.next is not None else []
    if isinstance(step, ApprovalStep) and step.on_reject is not None:
        edges.append(("on_reject", "on_reject", step.on_reject))
    if isinstance(step, ApprovalStep) and step.timeout_step is not None:
        edges.append(("on_timeout", "on_timeout", step.timeout_step))
    return edges


def _raw_edges(raw: Any) -> list[tuple[str, str, str]]:
    """Best-effort edges of a step that failed to parse, so it does not hide its successors."""
    if not isinstance(raw, Mapping):
        return []
    edges = [(name, name, raw.get(name)) for name in ("next", "else", "on_reject")]
    branches = raw.get("branches")
    for i, branch in enumerate(branches if isinstance(branches, list) else []):
        if isinstance(branch, Mapping):
            edges.append((f"if {branch.get('if')}", f"branches[{i}].then", branch.get("then")))
    return [(label, where, to) for label, where, to in edges if isinstance(to, str)]


def next_of(step: AnyStep) -> str | None:
    """Where a finished step goes: its `next`, or nowhere (the run ends) when it is
    `done: true` or names none. A branch's way is chosen by its conditions instead."""
    return None if step.done else getattr(step, "next", None)


def successors(step: AnyStep) -> list[tuple[str, str]]:
    """(label, target) edges of a step: "next", "if <cond>", "else", "on_reject"."""
    return [(label, target) for label, _, target in _edges(step)]


# ---------------------------------------------------------------- validation


def _pydantic_problems(exc: ValidationError, prefix: str) -> list[FieldError]:
    problems = []
    for err in exc.errors(include_url=False):
        path = _dotted(prefix, err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        code = "invalid"
        if err["type"] == "missing":
            message, code = "is required", "required"
        elif err["type"] == "extra_forbidden":
            message, code = f"unknown property '{err['loc'][-1]}'", "unknown_field"
        problems.append(FieldError(path or "definition", message, code))
    return problems


def _dotted(prefix: str, loc: tuple[int | str, ...]) -> str:
    """`steps.route` + ("branches", 0, "then") → `steps.route.branches[0].then`."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _parse_step(key: str, raw: Any) -> tuple[AnyStep | None, list[FieldError]]:
    path = f"steps.{key}"
    problems = []
    if not STEP_KEY_PATTERN.fullmatch(key):
        problems.append(
            FieldError(path, "a step key is 1-64 letters, digits, '_' or '-'", "invalid")
        )
    if not isinstance(raw, Mapping):
        return None, [*problems, FieldError(path, "a step must be an object")]
    expected = ", ".join(STEP_MODELS)
    kind = raw.get("kind")
    if kind is None:
        return None, [
            *problems,
            FieldError(f"{path}.kind", f"is required ({expected})", "required"),
        ]
    if not isinstance(kind, str) or kind not in STEP_MODELS:
        message = f"unknown step kind '{kind}' (expected one of {expected})"
        return None, [*problems, FieldError(f"{path}.kind", message)]
    try:
        step = STEP_MODELS[kind].model_validate(raw)
    except ValidationError as exc:
        return None, problems + _pydantic_problems(exc, path)
    return (None if problems else step), problems


def _envelope_problems(raw: Mapping[str, Any]) -> list[FieldError]:
    problems = []
    try:
        _Envelope.model_validate(raw)
    except ValidationError as exc:
        problems = _pydantic_problems(exc, "")
    if isinstance(raw.get("steps"), Mapping) and not raw["steps"]:
        problems.append(FieldError("steps", "a workflow needs at least one step", "required"))
    return problems


def _graph_problems(
    edges: dict[str, list[tuple[str, str, str]]], kinds: dict[str, Any], start: str | None
) -> list[FieldError]:
    problems = [
        FieldError(f"steps.{key}.{path}", f"'{target}' names no step")
        for key, out in edges.items()
        for _, path, target in out
        if target not in edges and target != END
    ]
    graph = {key: [t for _, _, t in out if t in edges] for key, out in edges.items()}
    if start is not None:
        reached = _reachable(graph, start)
        problems += [
            FieldError(f"steps.{key}", f"step '{key}' is unreachable from the start step '{start}'")
            for key in graph
            if key not in reached
        ]
    for cycle in _busy_cycles(graph, kinds, start):
        shown = " → ".join([*cycle, cycle[0]])
        problems.append(
            FieldError(f"steps.{cycle[0]}", f"cycle with no approval, signal or delay: {shown}")
        )
    return problems


def _reachable(graph: dict[str, list[str]], start: str) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for target in graph[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _busy_cycles(
    graph: dict[str, list[str]], kinds: dict[str, Any], start: str | None
) -> list[list[str]]:
    """Cycles through steps none of which waits; iterative DFS, so long chains cannot overflow."""
    busy = {k: [t for t in out if kinds[t] not in WAITING_KINDS] for k, out in graph.items()}
    order = ([start] if start in graph else []) + list(graph)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    cycles: list[list[str]] = []
    found: set[frozenset[str]] = set()
    for root in order:
        if kinds[root] in WAITING_KINDS or root in state:
            continue
        path, stack = [root], [iter(busy[root])]
        state[root] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                cycle = path[path.index(target) :]
                if frozenset(cycle) not in found:
                    found.add(frozenset(cycle))
                    cycles.append(cycle)
            elif target not in state:
                state[target] = 1
                path.append(target)
                stack.append(iter(busy[target]))
    return cycles


def _strings(path: str, value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(f"{path}.{key}", item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(f"{path}[{i}]", item)


def _templated_parts(step: AnyStep) -> dict[str, Any]:
    names = {
        HttpStep: ("url", "headers", "body", "query", "files"),
        ToolStep: ("args",),
        ApprovalStep: ("instructions",),
        SignalStep: ("instructions",),
        DelayStep: ("until",),
        SubworkflowStep: ("input",),
    }.get(type(step), ())
    return {name: getattr(step, name) for name in names}


def _syntax_problems(path: str, step: AnyStep) -> Iterator[FieldError]:
    for part, value in _templated_parts(step).items():
        for where, text in _strings(f"{path}.{part}", value):
            problem = template_problem(text)
            if problem:
                yield FieldError(where, problem)
    if isinstance(step, BranchStep):
        for i, branch in enumerate(step.branches):
            problem = condition_problem(branch.if_)
            if problem:
                yield FieldError(f"{path}.branches[{i}].if", problem)


def _step_problems(
    key: str,
    step: AnyStep,
    start: str | None,
    known_tools: Collection[str],
    known_workflows: Collection[str] | None,
) -> Iterator[FieldError]:
    path = f"steps.{key}"
    if isinstance(step, InputStep):
        if key != start:
            yield FieldError(f"{path}.kind", "only the start step may be an 'input' step")
    if isinstance(step, InputStep | ApprovalStep):
        for i, prop, message in field_list_problems(step.fields):
            yield FieldError(f"{path}.fields[{i}].{prop}", message)
    if isinstance(step, HttpStep) and step.files and step.method in ("GET", "HEAD"):
        yield FieldError(f"{path}.files", f"a {step.method} request cannot send files; use "
                                          "POST, PUT or PATCH")
    if isinstance(step, ToolStep) and step.tool not in known_tools:
        available = ", ".join(sorted(known_tools)) or "none"
        yield FieldError(f"{path}.tool", f"unknown tool '{step.tool}' (available: {available})")
    if isinstance(step, SubworkflowStep) and known_workflows is not None:
        if step.workflow_id not in known_workflows:
            yield FieldError(f"{path}.workflow_id", f"unknown workflow '{step.workflow_id}'")
    yield from _syntax_problems(path, step)


def validate_definition(
    raw: Any,
    *,
    known_tools: Collection[str],
    known_workflows: Collection[str] | None = None,
) -> tuple[Definition | None, list[FieldError]]:
    """Check a raw definition; return it parsed with no problems, or None with every problem."""
    if not isinstance(raw, Mapping):
        return None, [FieldError("definition", "a workflow definition must be a JSON object")]
    problems = _envelope_problems(raw)
    declared = raw.get("steps")
    raw_steps: Mapping[Any, Any] = declared if isinstance(declared, Mapping) else {}
    start = raw.get("start") if isinstance(raw.get("start"), str) else None
    if start and raw_steps and start not in raw_steps:
        problems.append(FieldError("start", f"'{start}' names no step"))
        start = None
    parsed: dict[str, AnyStep] = {}
    edges: dict[str, list[tuple[str, str, str]]] = {}
    kinds: dict[str, Any] = {}
    for key, raw_step in raw_steps.items():
        step, step_problems = _parse_step(str(key), raw_step)
        problems += step_problems
        if step is not None:
            parsed[key] = step
        edges[key] = _edges(step) if step is not None else _raw_edges(raw_step)
        kinds[key] = step.kind if step is not None else _raw_kind(raw_step)
    problems += _graph_problems(edges, kinds, start if start in raw_steps else None)
    for key, step in parsed.items():
        problems += _step_problems(key, step, start, known_tools, known_workflows)
    if problems:
        return None, problems
    return Definition.model_validate({**raw, "steps": parsed}), []


def _raw_kind(raw: Any) -> str | None:
    kind = raw.get("kind") if isinstance(raw, Mapping) else None
    return kind if isinstance(kind, str) else None


def parse_definition(
    raw: Any,
    *,
    known_tools: Collection[str],
    known_workflows: Collection[str] | None = None,
) -> Definition:
    """The parsed definition, or ValidationFailed listing every problem."""
    definition, problems = validate_definition(
        raw, known_tools=known_tools, known_workflows=known_workflows
    )
    if definition is None:
        raise ValidationFailed("The workflow definition is invalid", errors=problems)
    return definition


def input_fields(definition: Definition) -> list[FieldSpec]:
    """The fields a trigger must supply: those of the start step when it is an input step."""
    step = definition.steps[definition.start]
    return list(step.fields) if isinstance(step, InputStep) else []


# ---------------------------------------------------------------- seed 004 import


def is_seed004_flow(raw: Any) -> bool:
    """True when raw looks like seed 004's flow (`{"start": {"tool": …}, …}`), not ours."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("start"), Mapping):
        return False
    first = raw["start"]
    return ("tool" in first or "name" in first) and "kind" not in first


def _seed_problems(key: str, step: Any, flow: Mapping[str, Any]) -> Iterator[FieldError]:
    path = f"flow.{key}"
    if not isinstance(step, Mapping):
        yield FieldError(path, "a step must be an object")
        return
    for name in step:
        if name not in _SEED_STEP_KEYS:
            yield FieldError(f"{path}.{name}", f"unknown property '{name}'", "unknown_field")
    shapes = {"name": str, "tool": str, "next": str, "done": bool, "args": Mapping, "branch": list}
    for name, kind in shapes.items():
        if step.get(name) is not None and not isinstance(step[name], kind):
            yield FieldError(f"{path}.{name}", f"must be {_SHAPE_NAMES[kind]}")
    branches = step.get("branch")
    for i, branch in enumerate(branches if isinstance(branches, list) else []):
        if not (
            isinstance(branch, Mapping)
            and isinstance(branch.get("if"), str)
            and isinstance(branch.get("then"), str)
        ):
            yield FieldError(
                f"{path}.branch[{i}]", 'must be {"if": "<condition>", "then": "<step>"}'
            )
    if branches and f"{key}{SEED_BRANCH_SUFFIX}" in flow:
        yield FieldError(path, f"the key '{key}{SEED_BRANCH_SUFFIX}' is reserved for its branch")


_SHAPE_NAMES: dict[type, str] = {
    str: "a string",
    bool: "true or false",
    Mapping: "an object",
    list: "a list",
}


def _convert_seed_step(key: str, seed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    # A null (or absent) tool is the seed's gate: the step waits for POST …/ready.
    if seed.get("tool") is None:
        step: dict[str, Any] = {"kind": "signal"}
    else:
        step = {"kind": "tool", "tool": seed["tool"], "args": dict(seed.get("args") or {})}
    if seed.get("name"):
        step["title"] = seed["name"]
    if not seed.get("branch"):
        step.update({"next": seed["next"]} if seed.get("next") else {})
        step.update({"done": True} if seed.get("done") else {})
        return {key: step}
    # The seed branches on the step's own result; ours branch in a step of their own, whose
    # `result` is the previous (this) step's output, so the conditions keep their meaning.
    router_key = f"{key}{SEED_BRANCH_SUFFIX}"
    step["next"] = router_key
    router: dict[str, Any] = {
        "kind": "branch",
        "branches": [{"if": b["if"], "then": b["then"]} for b in seed["branch"]],
    }
    if seed.get("next"):
        router["else"] = seed["next"]  # when no condition holds, the seed's `next` still applies
    return {key: step, router_key: router}


def import_seed004(flow: Mapping[str, Any]) -> dict[str, Any]:
    """Convert a seed-004 flow into a raw definition of ours (validate it afterwards)."""
    if not isinstance(flow, Mapping):
        raise ValidationFailed(
            "The flow must be a JSON object", errors=[FieldError("flow", "must be an object")]
        )
    if "start" not in flow:
        raise ValidationFailed(
            SEED_START_MESSAGE, errors=[FieldError("flow.start", SEED_START_MESSAGE, "required")]
        )
    problems = [p for key, step in flow.items() for p in _seed_problems(str(key), step, flow)]
    if problems:
        raise ValidationFailed("The flow is invalid", errors=problems)
    steps: dict[str, Any] = {}
    for key, step in flow.items():
        steps.update(_convert_seed_step(str(key), step))
    return {"start": "start", "steps": steps}
