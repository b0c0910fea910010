"""A dispatcher with more due than slots claims again once a share of its slots is free
(REFILL_SHARE), not at each attempt that finishes."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from app.webhooks.dispatcher import REFILL_SHARE
from tests.integration.webhooks.support import dispatcher, emit, subscribe

SLOTS = 8
TIMEOUT_S = 10.0


class Gate:
    """A transport whose answers wait until `release(n)` lets n of them through."""

    def __init__(self) -> None:
        self.arrived = threading.Semaphore(0)
        self.go = threading.Semaphore(0)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.arrived.release()
        assert self.go.acquire(timeout=TIMEOUT_S)
        return httpx.Response(204)

    def wait_arrived(self, count: int) -> None:
        for _ in range(count):
            assert self.arrived.acquire(timeout=TIMEOUT_S)


def test_a_saturated_dispatcher_is_woken_once_a_share_of_its_slots_is_free(world: Any) -> None:
    subscribe(world, "https://hooks.example/in")
    for _ in range(3 * SLOTS):
        emit(world.workspace_id)
    gate = Gate()
    sender = dispatcher(clock=world.now, transport=httpx.MockTransport(gate.handler),
                        concurrency=SLOTS)
    woken = threading.Semaphore(0)
    sender.on_delivery_finished = woken.release
    try:
        assert sender.tick() == SLOTS  # every slot taken, more due: saturated
        gate.wait_arrived(SLOTS)
        refill_at = int(SLOTS * REFILL_SHARE)
        assert refill_at > 1
        gate.go.release(refill_at - 1)
        # Those attempts finish (recorded, slots freed) without waking the dispatcher.
        _wait_in_flight(sender, SLOTS - (refill_at - 1))
        assert not woken.acquire(timeout=0.2)
        gate.go.release(1)
        assert woken.acquire(timeout=TIMEOUT_S)  # now a claim has enough room
        assert sender.tick() == refill_at
        gate.wait_arrived(refill_at)
    finally:
        gate.go.release(3 * SLOTS)
        sender.stop(wait=True, timeout_s=TIMEOUT_S)


def _wait_in_flight(sender: Any, count: int) -> None:
    done = threading.Event()
    for _ in range(int(TIMEOUT_S / 0.01)):
        if sender.in_flight == count:
            done.set()
            break
        done.wait(0.01)
    assert done.is_set(), f"in flight: {sender.in_flight}, expected {count}"
