"""A process group's memory and CPU time from /proc: RSS (and PSS, which counts forked pages
once), and user + system seconds, to tell a CPU-bound process from one that waits."""

from __future__ import annotations

import os
import threading
import time
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


def _stat_fields(pid_dir: Path) -> list[str] | None:
    """/proc/PID/stat from field 3 on (the command name, field 2, may hold spaces)."""
    try:
        stat = (pid_dir / "stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()


def _group(pgid: int) -> list[tuple[Path, list[str]]]:
    members = []
    for pid_dir in Path("/proc").iterdir():
        if pid_dir.name.isdigit():
            fields = _stat_fields(pid_dir)
            if fields is not None and int(fields[2]) == pgid:
                members.append((pid_dir, fields))
    return members


def _kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def group_memory(pgid: int) -> Memory:
    rss = pss = 0
    members = _group(pgid)
    for pid_dir, _fields in members:
        rss += _kib(pid_dir / "status", "VmRSS:")
        pss += _kib(pid_dir / "smaps_rollup", "Pss:")
    return Memory(rss=rss * PAGE_KB, pss=pss * PAGE_KB, processes=len(members))


def group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of the group's live processes (utime, stime: fields 14, 15)."""
    ticks = sum(int(fields[11]) + int(fields[12]) for _dir, fields in _group(pgid))
    return ticks / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """`with CpuMeter(pgid) as cpu:` … `cpu.cores`: the CPU cores the group used on average,
    `cpu.cpu_s`: the CPU seconds it used."""

    def __init__(self, pgid: int) -> None:
        self.pgid = pgid
        self.cores = float("nan")
        self.cpu_s = float("nan")
        self._start = (0.0, 0.0)

    def __enter__(self) -> CpuMeter:
        self._start = (group_cpu_s(self.pgid), time.monotonic())
        return self

    def __exit__(self, _type: type[BaseException] | None, _exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        cpu, wall = group_cpu_s(self.pgid) - self._start[0], time.monotonic() - self._start[1]
        self.cpu_s = cpu
        self.cores = cpu / wall if wall > 0 else float("nan")

    def per(self, operations: int) -> str:
        """CPU time per operation: what bounds a GIL-bound process (≈ 1 core) at 1 / it."""
        if operations <= 0:
            return "-"
        return f"{self.cpu_s / operations * 1000:.2f} ms CPU per"


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


def cores(value: float) -> str:
    return f"{value:.2f} of {os.cpu_count()} cores"
