"""The commit that moves a run out of IN_PROGRESS wakes that run's waiters, and only those:
completion, a block on a signal, a cancel; a step that moves on wakes nobody."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from app import settled
from app.db import write_session
from app.services.runs import cancel_run
from tests.support import World

CHAIN = {"start": "a", "steps": {
    "a": {"kind": "tool", "tool": "set", "args": {"x": 1}, "next": "b"},
    "b": {"kind": "tool", "tool": "set", "args": {"x": 2}, "done": True}}}
GATED = {"start": "gate", "steps": {
    "gate": {"kind": "signal", "next": "after"},
    "after": {"kind": "tool", "tool": "set", "args": {"x": 1}, "done": True}}}


@pytest.fixture
def woken() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    stops: list = []

    def watch(run_id: str) -> None:
        stops.append(settled.watch(run_id, lambda: counts.update([run_id])))

    counts.watch = watch  # type: ignore[attr-defined]
    yield counts
    for stop in stops:
        stop()


def test_completion_wakes_the_run_once_and_not_its_neighbour(world: World,
                                                              woken: Counter[str]) -> None:
    mine = world.trigger(world.publish(CHAIN))
    neighbour = world.trigger(world.publish(GATED, title="Gated"))
    woken.watch(mine)  # type: ignore[attr-defined]
    woken.watch("run_not_started")  # type: ignore[attr-defined]
    world.drain()
    assert world.run(mine).status == "COMPLETED"
    assert world.run(neighbour).status == "BLOCKED"
    assert woken == Counter({mine: 1})


def test_a_block_and_a_cancel_each_wake_the_run(world: World, woken: Counter[str]) -> None:
    run_id = world.trigger(world.publish(GATED))
    woken.watch(run_id)  # type: ignore[attr-defined]
    world.drain()
    assert woken[run_id] == 1
    with write_session() as session:
        cancel_run(session, workspace_id=world.workspace_id, run_id=run_id, actor=world.actor)
    assert world.run(run_id).status == "CANCELLED"
    assert woken[run_id] == 2
