"""A loopback HTTP server for tests: scripted responses, every request recorded."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = field(default_factory=lambda: {"ok": True})
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class Receiver:
    """`script` answers request n with replies[n] (the last one repeats)."""

    replies: list[Reply] = field(default_factory=lambda: [Reply()])
    received: list[Received] = field(default_factory=list)
    port: int = 0
    on_request: Callable[[Received], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def next_reply(self) -> Reply:
        index = min(len(self.received) - 1, len(self.replies) - 1)
        return self.replies[index]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                # The sender died mid-request (the crash tests SIGKILL it): a real receiver
                # never sees a request it did not fully read, so neither does this one.
                self.close_connection = True
                return
            record = Received(self.command, self.path, {k.lower(): v for k, v in
                                                         self.headers.items()}, body,
                              time.monotonic())
            with lock:
                receiver.received.append(record)
                reply = receiver.next_reply()
            if receiver.on_request:
                receiver.on_request(record)
            if reply.delay_s:
                time.sleep(reply.delay_s)
            payload = reply.body if isinstance(reply.body, bytes) else json.dumps(
                reply.body).encode()
            self.send_response(reply.status)
            self.send_header("content-type", "application/json")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, *_args: Any) -> None:
            return

    return Handler


@contextmanager
def serve(*replies: Reply) -> Iterator[Receiver]:
    receiver = Receiver(replies=list(replies) or [Reply()])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
