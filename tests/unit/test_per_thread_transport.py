"""The dispatcher's transport (app/webhooks/outbound.py PerThreadTransport): a guarded pool
per thread, each connection kept alive for its own thread, all closed together."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from app.webhooks.address_guard import AddressRefused
from app.webhooks.outbound import PerThreadTransport

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


class _KeepAlive(BaseHTTPRequestHandler):
    """Answers 204 over HTTP/1.1 keep-alive and notes each request's client port."""

    protocol_version = "HTTP/1.1"
    ports: list[int] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        type(self).ports.append(self.client_address[1])
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    _KeepAlive.ports = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAlive)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _post(transport: httpx.BaseTransport, url: str) -> int:
    response = transport.handle_request(httpx.Request("POST", url, content=b"{}"))
    response.read()
    response.close()
    return response.status_code


def test_each_thread_keeps_its_own_connection(url: str) -> None:
    transport = PerThreadTransport(allowed_networks=LOOPBACK)
    try:
        assert [_post(transport, url) for _ in range(3)] == [204] * 3
        other: list[int] = []
        worker = threading.Thread(target=lambda: other.extend(
            _post(transport, url) for _ in range(2)))
        worker.start()
        worker.join(10)
        assert other == [204, 204]
        mine, theirs = _KeepAlive.ports[:3], _KeepAlive.ports[3:]
        assert len(set(mine)) == 1 and len(set(theirs)) == 1  # reused within a thread
        assert set(mine) != set(theirs)  # not shared between threads
    finally:
        transport.close()


def test_the_guard_applies_in_every_thread(url: str) -> None:
    transport = PerThreadTransport(allowed_networks=())
    try:
        with pytest.raises(AddressRefused):
            _post(transport, url)
        assert _KeepAlive.ports == []
    finally:
        transport.close()


def test_close_closes_every_pool_and_refuses_new_ones(url: str) -> None:
    transport = PerThreadTransport(allowed_networks=LOOPBACK)
    assert _post(transport, url) == 204
    transport.close()
    errors: list[BaseException] = []

    def late() -> None:
        try:
            _post(transport, url)
        except httpx.TransportError as exc:
            errors.append(exc)

    worker = threading.Thread(target=late)
    worker.start()
    worker.join(10)
    assert len(errors) == 1 and "closed" in str(errors[0])
