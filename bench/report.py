"""Result tables: one markdown table per scenario, targets beside the results."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.stats import Summary

MET = "met"
MISSED = "**missed**"


@dataclass(frozen=True)
class Row:
    """A latency row (`latency`, seconds) or a value row (`value` already formatted)."""

    measure: str
    latency: Summary | None = None
    value: str = ""
    target: str = ""
    met: bool | None = None


@dataclass
class Table:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def note(self, text: str) -> None:
        self.notes.append(text)


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"


def per_s(value: float, unit: str = "/s") -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"


def mib(size_bytes: float) -> str:
    return f"{size_bytes / 2**20:,.0f} MiB"


def verdict(met: bool | None) -> str:
    return "" if met is None else (MET if met else MISSED)


def markdown(table: Table) -> str:
    lines = [f"### {table.title}", ""]
    if table.rows:
        lines += ["| measure | n | median | p99 | max | value | target | |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for row in table.rows:
        if row.latency is not None:
            s = row.latency
            cells = [str(s.n), ms(s.median), ms(s.p99), ms(s.max)]
        else:
            cells = ["", "", "", ""]
        lines.append(f"| {row.measure} | {' | '.join(cells)} | {row.value} | {row.target} | "
                     f"{verdict(row.met)} |")
    if table.rows:
        lines.append("")
    lines.extend(f"- {note}" for note in table.notes)
    if table.notes:
        lines.append("")
    return "\n".join(lines)
