"""A loopback webhook receiver: scripted replies, every request recorded, a fixed port if
asked (to be down first and up later), and a quick shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.receiver import Received, Receiver, Reply

POLL_INTERVAL_S = 0.02


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            with lock:
                receiver.received.append(Received(self.command, self.path, headers, body,
                                                  time.monotonic()))
                reply = receiver.next_reply()
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload = reply.body if isinstance(reply.body, bytes) else b'{"ok":true}'
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *_args: Any) -> None:
            return

    return Handler


@contextmanager
def serve(*replies: Reply, port: int = 0,
          receiver: Receiver | None = None) -> Iterator[Receiver]:
    """Serve on 127.0.0.1 (`port` 0 picks a free one); pass `receiver` to keep its records."""
    receiver = receiver or Receiver(replies=list(replies) or [Reply()])
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL_S,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
