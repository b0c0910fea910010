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


class Profile:
    """`with Profile(pid, out_dir, name):` records while the block runs."""

    def __init__(self, pid: int, out_dir: str | None, name: str) -> None:
        self.pid = pid
        self.path = Path(out_dir) / f"{name}.txt" if out_dir else None
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Profile:
        binary = py_spy()
        if self.path is None or binary is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "record", "--pid", str(self.pid), "--subprocesses", "--format", "raw",
             "--rate", str(SAMPLE_RATE_HZ), "--nonblocking", "--nolineno",
             "--output", str(self.path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, _type: type[BaseException] | None, _exc: BaseException | None,
                 _tb: TracebackType | None) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        if self.path is not None and self.path.exists():
            summary = summarize(self.path.read_text())
            self.path.with_suffix(".top.md").write_text(summary)


def _frames(stack: str) -> list[str]:
    return [frame for frame in stack.split(";") if frame]


def summarize(collapsed: str, top: int = TOP) -> str:
    """Inclusive and self shares of the busiest frames in py-spy's collapsed stacks, and the
    project's own functions (app/) by inclusive share.

    py-spy leaves out idle threads (blocked on a lock, a socket, a queue), so shares are of
    the time the process's threads spent on the CPU or in a non-idle system call.
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
