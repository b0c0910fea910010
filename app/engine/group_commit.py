"""Group commit: what several threads finished at about the same time is written in one
transaction, by one of them.

Each producer (a step thread of the executor) says when it starts work that will end in a
write (`busy()`), hands the write over (`submit()`, which returns that item's result once the
batch holding it is written) and says when it is done (`idle()`). There is no writer thread:
the producer that submits while no batch is being gathered leads the next one (when a batch
ends with more queued, the oldest waiting producer takes the lead), and it flushes as soon as
one of these holds:

- the batch is full (`max_batch`);
- no producer is still busy: nobody else could join, so waiting would only add latency (a
  lone run's steps are written one by one, each in its step's own thread: no hand-off);
- the first item has waited `max_wait_s` (a slow HTTP step never holds the others up longer).

After `stop()` what is queued is still written; later submissions are written in the
caller's thread, one at a time (a draining executor still records its last steps).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(eq=False)
class _Pending(Generic[T, R]):
    item: T
    result: R | None = None
    error: BaseException | None = None
    lead: bool = False  # this producer gathers and writes the next batch
    done: threading.Event = field(default_factory=threading.Event)  # a result, or the lead


class GroupCommit(Generic[T, R]):
    def __init__(self, write: Callable[[Sequence[T]], list[R]], *, max_batch: int = 64,
                 max_wait_s: float = 0.002, name: str = "group-commit") -> None:
        """`write(items)` writes a batch and returns one result per item, in order."""
        self.write = write
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.name = name
        self._cond = threading.Condition()
        self._queue: list[_Pending[T, R]] = []
        self._busy = 0
        self._leading = False  # a producer is gathering or writing a batch
        self._stopping = False
        self.batches = 0  # how many batches were written (for tests and the bench)

    def busy(self) -> None:
        with self._cond:
            self._busy += 1

    def idle(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._leading:
                self._cond.notify_all()  # a leader waiting for busy producers may go now

    def submit(self, item: T) -> R:
        """Queue `item` for the next batch and wait for its result (the caller is busy)."""
        pending: _Pending[T, R] = _Pending(item)
        with self._cond:
            inline = self._stopping and not self._leading
            if not inline:
                self._busy -= 1
                self._queue.append(pending)
                if self._leading:
                    self._cond.notify_all()  # the leader may be waiting for this one
                else:
                    self._leading = pending.lead = True
        if inline:
            return self.write([item])[0]
        if not pending.lead:
            pending.done.wait()  # for the result, or to lead the next batch
        if pending.lead:
            self._lead()  # its batch begins with this producer's item
        with self._cond:
            self._busy += 1
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def stop(self, timeout_s: float | None = None) -> None:
        """Write what is queued (its leader goes on), then write later submissions inline."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            while self._leading:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)

    def _lead(self) -> None:
        """Gather a batch (the leader's item is first in the queue), write it, and pass the
        lead on to the oldest producer still waiting."""
        with self._cond:
            deadline = time.monotonic() + self.max_wait_s
            while (len(self._queue) < self.max_batch and self._busy > 0
                   and not self._stopping):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        try:
            results = self.write([pending.item for pending in batch])
            for pending, result in zip(batch, results, strict=True):
                pending.result = result
        except BaseException as exc:  # every producer of the batch learns of it
            log.exception("%s: writing a batch of %d failed", self.name, len(batch))
            for pending in batch:
                pending.error = exc
        with self._cond:
            self.batches += 1
            for pending in batch:
                pending.lead = False
                pending.done.set()
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.done.set()
            else:
                self._leading = False
                self._cond.notify_all()  # stop() may be waiting
