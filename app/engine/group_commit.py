"""Group commit: what several threads finished at about the same time is written by one thread
in one transaction.

Each producer (a step thread of the executor) says when it starts work that will end in a
write (`busy()`), hands the write over (`submit()`, which blocks until the batch holding it
is written and returns that item's result) and says when it is done (`idle()`). The writer
thread flushes a batch as soon as one of these holds:

- the batch is full (`max_batch`);
- no producer is still busy: nobody else could join, so waiting would only add latency (a
  lone run's steps are written one by one, as fast as without batching);
- the first item has waited `max_wait_s` (a slow HTTP step never holds the others up longer).

After `stop()` the thread writes what is queued and ends; later submissions are written in
the caller's thread, one at a time (a draining executor still records its last steps).
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
    done: threading.Event = field(default_factory=threading.Event)


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
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.batches = 0  # how many batches were written (for tests and the bench)

    def busy(self) -> None:
        with self._cond:
            self._busy += 1

    def idle(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    def submit(self, item: T) -> R:
        """Queue `item` for the next batch and wait for its result (the caller is busy)."""
        pending: _Pending[T, R] = _Pending(item)
        with self._cond:
            if self._stopping:
                inline = True
            else:
                inline = False
                self._ensure_thread()
                self._busy -= 1
                self._queue.append(pending)
                self._cond.notify_all()
        if inline:
            return self.write([item])[0]
        pending.done.wait()
        with self._cond:
            self._busy += 1
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]

    def stop(self, timeout_s: float | None = None) -> None:
        """Write what is queued, then end the thread; later submissions write inline."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def _next_batch(self) -> list[_Pending[T, R]] | None:
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return None
                self._cond.wait()
            deadline = time.monotonic() + self.max_wait_s
            while (len(self._queue) < self.max_batch and self._busy > 0
                   and not self._stopping):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            return batch

    def _loop(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                results = self.write([pending.item for pending in batch])
                for pending, result in zip(batch, results, strict=True):
                    pending.result = result
            except BaseException as exc:  # every waiter learns of it; the thread goes on
                log.exception("%s: writing a batch of %d failed", self.name, len(batch))
                for pending in batch:
                    pending.error = exc
            finally:
                self.batches += 1
                for pending in batch:
                    pending.done.set()
