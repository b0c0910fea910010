"""A fast loopback webhook receiver (its own process): answers 200 at once and notes, per
request, the `webhook-id` header and when its first byte arrived (wall clock).

    python -m bench.receiver --port 3590 --out /tmp/received.tsv

Lines `<webhook-id>\\t<unix seconds>` are appended to the file and flushed every 0.1 s.
tests/receiver.py's thread-per-request server would bound the dispatcher's measured rate;
asyncio does not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import signal
import time
from pathlib import Path
from typing import TextIO

REPLY = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"
MAX_HEADER_LINES = 200
FLUSH_EVERY_S = 0.1


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 log: TextIO) -> None:
    try:
        while True:
            request_line = await reader.readline()
            first_byte = time.time()
            if not request_line:
                return
            length, webhook_id = 0, ""
            for _ in range(MAX_HEADER_LINES):
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "webhook-id":
                    webhook_id = value.strip()
            if length:
                await reader.readexactly(length)
            log.write(f"{webhook_id}\t{first_byte:.6f}\n")
            writer.write(REPLY)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()


async def serve(port: int, log: TextIO) -> None:
    server = await asyncio.start_server(functools.partial(handle, log=log), "127.0.0.1", port,
                                        backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    async with server:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_EVERY_S)
            log.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with args.out.open("a") as log:
        asyncio.run(serve(args.port, log))


if __name__ == "__main__":
    main()
