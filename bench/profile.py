"""Sampling profiles of the app under load with py-spy (optional: `--profile DIR`).

py-spy attaches to the running app (all its processes) without changing it; the collapsed
stacks are summarised as the functions most often on the stack (inclusive) and most often at
the top of it (self), which is what docs/benchmarks.md quotes.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import TracebackType

SAMPLE_RATE_HZ = 200
TOP = 25


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


# Two views at once: every thread not idle (waits on the database included), and only the
# thread holding the GIL (where the CPU goes).
VIEWS = {"": [], ".gil": ["--gil"]}


class Profile:
    """`with Profile(pid, out_dir, name):` records while the block runs; writes
    `name.txt` / `name.top.md` (threads not idle) and `name.gil.txt` / `name.gil.top.md`."""

    def __init__(self, pid: int, out_dir: str | None, name: str) -> None:
        self.pid = pid
        self.paths = ([Path(out_dir) / f"{name}{view}.txt" for view in VIEWS]
                      if out_dir else [])
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Profile:
        binary = py_spy()
        if binary is None:
            return self
        for path, flags in zip(self.paths, VIEWS.values(), strict=False):
            path.parent.mkdir(parents=True, exist_ok=True)
            self.processes.append(subprocess.Popen(
                [binary, "record", "--pid", str(self.pid), "--subprocesses", "--format", "raw",
                 "--rate", str(SAMPLE_RATE_HZ), "--nonblocking", "--nolineno", *flags,
                 "--output", str(path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        return self

    def __exit__(self, _type: type[BaseException] | None, _exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGINT)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for path in self.paths:
            if path.exists():
                path.with_suffix(".top.md").write_text(summarize(path.read_text()))


def summarize(collapsed: str, top: int = TOP) -> str:
    """Inclusive and self shares of the busiest frames in py-spy's collapsed stacks, and the
    project's own functions (app/) by inclusive share.

    py-spy leaves out idle threads (blocked on a lock, a socket, a queue), so shares are of
    the time the process's threads spent on the CPU or in a non-idle call; with --gil, of
    the time some thread held the GIL.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        frames = [frame for frame in stack.split(";") if frame and not _plumbing(frame)]
        if not frames or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if total == 0:
        return "no samples\n"
    project = Counter({frame: n for frame, n in inclusive.items() if "(app/" in frame})
    return "\n".join([f"{total} busy samples", "",
                      *_table("inclusive", inclusive, total, top),
                      *_table("self", own, total, top),
                      *_table("inclusive, app/ only", project, total, top)])


def _table(title: str, counts: Counter[str], total: int, top: int) -> list[str]:
    rows = [f"| {100 * n / total:.1f} % | `{frame}` |" for frame, n in counts.most_common(top)]
    return [f"| {title} | function |", "| ---: | --- |", *rows, ""]


PLUMBING = ("process ", "(threading.py)", "(concurrent/futures/thread.py)")


def _plumbing(frame: str) -> bool:
    """Frames on every stack of a thread: the process and the thread-pool machinery."""
    return frame.startswith(PLUMBING[0]) or frame.endswith(PLUMBING[1:])
