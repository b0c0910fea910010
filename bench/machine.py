"""What the numbers were measured on: cores, CPU model, memory, Python, load, database."""

from __future__ import annotations

import datetime
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return out.stdout.strip() + (" + uncommitted changes in app/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def header(database: str, load_at_start: tuple[float, float, float]) -> str:
    """A markdown header naming the machine and the database; `load_at_start` is the load
    average when the command started (later ones include the benchmark's own work)."""
    one, five, fifteen = load_at_start
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([
        f"## Database: {database}",
        "",
        f"- machine: {os.cpu_count()} cores ({cpu_model()}), {memory_gib():.1f} GiB memory, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLite library {sqlite3.sqlite_version}",
        f"- load average when the command started: {one:.2f} / {five:.2f} / {fifteen:.2f} "
        "(1 / 5 / 15 min)"
        + ("  **machine busy: numbers not representative**" if one >= 0.5 else ""),
        f"- code: {git_commit()}; {now}",
        "",
    ])
