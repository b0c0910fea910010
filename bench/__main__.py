"""python -m bench [scenario ...] [--db sqlite|postgres|both] [--quick] [--out FILE]
[--profile DIR]: run the benchmarks and print one markdown table per scenario."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from bench.harness import describe_database
from bench.machine import header, load_average
from bench.report import Table, markdown
from bench.scenarios import SCENARIOS, Options

DATABASES = {"sqlite": ("sqlite",), "postgres": ("postgres",), "both": ("sqlite", "postgres")}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("scenarios", nargs="*", metavar="scenario",
                        help=f"any of {', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--db", choices=tuple(DATABASES), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="every scenario 10x smaller")
    parser.add_argument("--out", type=Path, help="also write the markdown to this file")
    parser.add_argument("--profile", metavar="DIR",
                        help="record py-spy profiles of the app (throughput, api, webhooks) "
                             "into DIR")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for every app and worker process (repeatable), "
                             "e.g. --env EXECUTOR_CONCURRENCY=4")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.env):
        parser.error("--env takes NAME=VALUE")
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    return args


def emit(text: str, out: Path | None) -> None:
    print(text, flush=True)
    if out is not None:
        with out.open("a") as handle:
            handle.write(text + "\n")


def main(argv: list[str] | None = None) -> int:
    load_at_start = load_average()
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING)
    names = [name for name in SCENARIOS if name in args.scenarios] or list(SCENARIOS)
    if args.out is not None:
        args.out.write_text("")
    command = " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)])
    emit(f"# Flowdesk benchmarks\n\n`{command}`\n", args.out)
    failures = 0
    for kind in DATABASES[args.db]:
        emit(header(describe_database(kind), load_at_start), args.out)
        options = Options(kind=kind, quick=args.quick, profile_dir=args.profile,
                          env=dict(item.split("=", 1) for item in args.env))
        for name in names:
            try:
                table = SCENARIOS[name](options)
            except Exception:
                failures += 1
                table = Table(f"{name}: failed")
                table.note("```\n" + traceback.format_exc()[-3000:] + "```")
            emit(markdown(table), args.out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
