"""Memory of a process group from /proc: RSS (and PSS, which counts forked pages once)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

SAMPLE_EVERY_S = 0.1
PAGE_KB = 1024


@dataclass(frozen=True)
class Memory:
    rss: int  # bytes, summed over the group's processes
    pss: int
    processes: int


def _pgrp(pid_dir: Path) -> int | None:
    try:
        stat = (pid_dir / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[2])


def _kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_memory(pgid: int) -> Memory:
    rss = pss = count = 0
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit() or _pgrp(pid_dir) != pgid:
            continue
        count += 1
        rss += _kib(pid_dir / "status", "VmRSS:")
        pss += _kib(pid_dir / "smaps_rollup", "Pss:")
    return Memory(rss=rss * PAGE_KB, pss=pss * PAGE_KB, processes=count)


class PeakSampler:
    """Samples a process group's memory in a thread; `peak` is the largest RSS seen."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.peak = Memory(0, 0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(SAMPLE_EVERY_S)

    def sample(self) -> None:
        now = group_memory(self.pgid)
        if now.rss > self.peak.rss:
            self.peak = now

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, _type: type[BaseException] | None, _exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
