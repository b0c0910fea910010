"""The one outbound HTTP client factory (webhooks and http steps), guarded against SSRF.

Catch `AddressRefused` for a target the guard refused (no connection was attempted), then
`httpx.HTTPError` for everything else that went wrong on the wire. AddressRefused is an
httpx.TransportError, so a bare `except httpx.HTTPError` also catches it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import httpx

from app.webhooks.address_guard import AddressRefused, GuardedTransport, IPNetwork

if TYPE_CHECKING:
    from app.settings import Settings

__all__ = ["AddressRefused", "PerThreadTransport", "client_for_settings", "make_http_client",
           "make_transport", "transport_for_settings"]

# Sized for about 100 requests in flight at once (dispatcher and executor together);
# a request beyond that waits for a free connection up to the pool timeout.
MAX_CONNECTIONS = 128
MAX_KEEPALIVE_CONNECTIONS = 32
KEEPALIVE_EXPIRY_S = 15.0
# A PerThreadTransport's pool: one request at a time, to this many receivers kept open.
PER_THREAD_KEEP_ALIVE = 4
DEFAULT_USER_AGENT = "Flowdesk/0.1"

# httpx logs every request at INFO ("HTTP Request: POST … 200 OK"): a line per webhook attempt
# and per http step, formatted by rich (Reflex's handler), took over a quarter of the
# dispatcher's CPU. Every attempt is in the delivery log and every step in the run's timeline;
# httpx's warnings still show.
logging.getLogger("httpx").setLevel(logging.WARNING)


def make_transport(*, allowed_networks: Sequence[IPNetwork]) -> httpx.BaseTransport:
    """The pooled transport that refuses forbidden targets (a transport never follows
    redirects)."""
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
    return GuardedTransport(allowed=allowed_networks, limits=limits)


def make_http_client(
    *,
    allowed_networks: Sequence[IPNetwork],
    timeout_s: float,
    transport: httpx.BaseTransport | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
) -> httpx.Client:
    """A pooled client that refuses forbidden targets and never follows redirects.

    `transport` replaces the guarded one (tests pass httpx.MockTransport); the guard then
    only applies if that transport applies it.
    """
    if transport is None:
        transport = make_transport(allowed_networks=allowed_networks)
    # trust_env=False: an HTTP(S)_PROXY from the environment would connect on our behalf,
    # to wherever it likes, bypassing the address check.
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": user_agent},
    )


def client_for_settings(settings: Settings, *, timeout_s: float | None = None) -> httpx.Client:
    """make_http_client with the allowed networks and timeout from settings."""
    return make_http_client(
        allowed_networks=settings.allowed_networks,
        timeout_s=settings.http_timeout_s if timeout_s is None else timeout_s,
    )


def transport_for_settings(settings: Settings) -> httpx.BaseTransport:
    """The dispatcher's transport: guarded, with a pool per delivery thread."""
    return PerThreadTransport(allowed_networks=settings.allowed_networks)


class PerThreadTransport(httpx.BaseTransport):
    """A guarded transport with one small connection pool per thread that uses it.

    httpcore's pool matches every waiting request against every connection under one lock at
    each request and each answer: with 64 delivery threads on one pool that matching was
    three fifths of the dispatcher's CPU. A thread sends one request at a time, so its own
    pool holds a connection or a few (one per receiver it talks to) and the matching costs
    nothing; receivers see at most one connection per delivery thread, as before.
    """

    def __init__(self, *, allowed_networks: Sequence[IPNetwork],
                 keep_alive: int = PER_THREAD_KEEP_ALIVE) -> None:
        self._allowed = tuple(allowed_networks)
        self._keep_alive = keep_alive
        # One TLS context for every pool: building one loads the CA bundle (milliseconds).
        self._tls = httpx.create_ssl_context(trust_env=False)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[httpx.BaseTransport] = []
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = self._new()
        return transport.handle_request(request)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            transports, self._all = self._all, []
        for transport in transports:
            transport.close()

    def _new(self) -> httpx.BaseTransport:
        limits = httpx.Limits(max_connections=self._keep_alive,
                              max_keepalive_connections=self._keep_alive,
                              keepalive_expiry=KEEPALIVE_EXPIRY_S)
        transport = GuardedTransport(allowed=self._allowed, verify=self._tls, limits=limits)
        with self._lock:
            if self._closed:
                transport.close()
                raise httpx.TransportError("the transport is closed")
            self._all.append(transport)
        return transport
