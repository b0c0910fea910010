"""Refuses outbound HTTP to private, loopback, link-local and other non-public addresses."""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Checked in order, so a narrow range (broadcast) is named before the wide one holding it.
# Documentation ranges are refused too: nothing real lives there, and `is_global` says no.
_FORBIDDEN_V4: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/8"), "an unspecified ('this network') address"),
    (_V4("10.0.0.0/8"), "a private address"),
    (_V4("100.64.0.0/10"), "a carrier-grade NAT (shared) address"),
    (_V4("127.0.0.0/8"), "a loopback address"),
    (_V4("169.254.0.0/16"), "a link-local address"),
    (_V4("172.16.0.0/12"), "a private address"),
    (_V4("192.0.0.0/24"), "a reserved (IETF protocol) address"),
    (_V4("192.0.2.0/24"), "a documentation address"),
    (_V4("192.88.99.0/24"), "a reserved (6to4 relay) address"),
    (_V4("192.168.0.0/16"), "a private address"),
    (_V4("198.18.0.0/15"), "a benchmarking address"),
    (_V4("198.51.100.0/24"), "a documentation address"),
    (_V4("203.0.113.0/24"), "a documentation address"),
    (_V4("224.0.0.0/4"), "a multicast address"),
    (_V4("255.255.255.255/32"), "the broadcast address"),
    (_V4("240.0.0.0/4"), "a reserved address"),
)

_FORBIDDEN_V6: tuple[tuple[IPNetwork, str], ...] = (
    (_V6("::/128"), "an unspecified address"),
    (_V6("::1/128"), "a loopback address"),
    (_V6("::/96"), "a deprecated IPv4-compatible address"),
    (_V6("::ffff:0:0:0/96"), "an IPv4-translated address"),
    (_V6("64:ff9b:1::/48"), "a local-use NAT64 address"),
    (_V6("100::/64"), "a discard-only address"),
    (_V6("2001::/32"), "a Teredo tunnel address"),
    (_V6("2001:2::/48"), "a benchmarking address"),
    (_V6("2001:db8::/32"), "a documentation address"),
    (_V6("3fff::/20"), "a documentation address"),
    (_V6("fc00::/7"), "a unique local (private) address"),
    (_V6("fe80::/10"), "a link-local address"),
    (_V6("fec0::/10"), "a site-local address"),
    (_V6("ff00::/8"), "a multicast address"),
)

_NAT64 = _V6("64:ff9b::/96")
_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_NUMERIC_PART = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")
_HEX = re.compile(r"0[xX][0-9A-Fa-f]+")
_OCTAL = re.compile(r"0[0-7]*")
_DECIMAL = re.compile(r"[1-9][0-9]*")


class AddressRefused(httpx.TransportError):
    """An outbound target the guard will not connect to.

    It subclasses httpx.TransportError so a caller catching httpx.HTTPError also sees it;
    catch AddressRefused first to tell "refused" from "unreachable".

        httpx.HTTPError
        └── httpx.TransportError
            └── AddressRefused   (check_url, check_ip, resolve_and_check, guarded client)
    """

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"refused: {host} is {reason}")
        self.host = host
        self.reason = reason


def check_ip(ip: IPAddress, allowed: Sequence[IPNetwork] = ()) -> None:
    """Raise AddressRefused unless `ip` is globally routable or inside an allowed network."""
    if _is_allowed(ip, allowed):
        return
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        _check_embedded(ip, embedded, allowed)
        # A mapped or NAT64 address is just another way to reach a public IPv4 address.
        if ip in _V6("::ffff:0:0/96") or ip in _NAT64:
            return
    reason = _forbidden_reason(ip)
    if reason is None and not ip.is_global:
        reason = "not a globally routable address"
    if reason is not None:
        raise AddressRefused(str(ip), reason)


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a resolver would read from an IP-literal host, or None for a hostname.

    Accepts what `inet_aton` accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) so the
    check sees the same address the connection would; a numeric-looking host that is not a
    valid address raises AddressRefused rather than being looked up in DNS.
    """
    bare = host.strip("[]")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    name = bare[:-1] if bare.endswith(".") else bare
    # WHATWG's "ends in a number" rule: such a host is an IPv4 literal or nothing.
    if not _NUMERIC_PART.fullmatch(name.rsplit(".", 1)[-1]):
        return None
    value = _inet_aton(name)
    if value is None:
        raise AddressRefused(host, "not a valid IPv4 address")
    return ipaddress.IPv4Address(value)


def check_url(url: str, allowed: Sequence[IPNetwork] = ()) -> None:
    """Refuse a URL whose scheme is not http(s) or whose host is a forbidden IP literal.

    Hostnames are only syntax-checked: DNS may change, so the guarded transport checks the
    resolved address again at connect time.
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise AddressRefused(url, f"not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https"):
        raise AddressRefused(url, "not an http or https URL")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise AddressRefused(url, "a URL without a host")
    ip = parse_ip_host(host)
    if ip is None:
        _check_hostname(host)
        # RFC 6761: resolvers answer loopback for these names whatever DNS says.
        if host.lower().rstrip(".").split(".")[-1] == "localhost":
            ip = ipaddress.IPv4Address("127.0.0.1")
    if ip is not None:
        try:
            check_ip(ip, allowed)
        except AddressRefused as exc:
            raise AddressRefused(host, exc.reason) from None


def resolve_and_check(host: str, port: int, allowed: Sequence[IPNetwork] = ()) -> list[str]:
    """Resolve `host` and return its addresses, refusing if ANY of them is forbidden.

    Resolution failures surface as OSError (socket.gaierror), as from socket.getaddrinfo.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        literal = str(info[4][0])
        ip = ipaddress.ip_address(literal)
        try:
            check_ip(ip, allowed)
        except AddressRefused as exc:
            raise AddressRefused(host, f"a name for {literal}, {exc.reason}") from None
        if literal not in addresses:
            addresses.append(literal)
    if not addresses:
        raise socket.gaierror(f"{host} resolved to no addresses")
    return addresses


class GuardedBackend(httpcore.SyncBackend):
    """Resolves and checks the host, then connects to the checked IP itself.

    httpcore still uses the original hostname for TLS (SNI and certificate checks), and httpx
    sets the Host header from the URL, so only the socket address changes.
    """

    def __init__(self, allowed: Sequence[IPNetwork] = ()) -> None:
        self._allowed = tuple(allowed)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve_and_check(host, port, self._allowed)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        options = list(socket_options or ())
        last_error: Exception | None = None
        for address in addresses:
            try:
                # Connecting to the literal we checked leaves no window for DNS rebinding.
                return super().connect_tcp(address, port, timeout, local_address, options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"cannot connect to {host}")


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through GuardedBackend, never a proxy."""

    def __init__(
        self,
        *,
        allowed: Sequence[IPNetwork] = (),
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx 0.28 has no network_backend option, so replace the pool it built (which has
        # opened nothing yet) with one built the same way plus the guarded backend.
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allowed),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().handle_request(request)
        except AddressRefused as exc:
            exc.request = request  # so callers can log which request was refused
            raise


def _is_allowed(ip: IPAddress, allowed: Sequence[IPNetwork]) -> bool:
    embedded = _embedded_ipv4(ip)
    candidates = (ip,) if embedded is None else (ip, embedded)
    # A network of the other IP version never contains the address: `in` is simply False.
    return any(candidate in network for candidate in candidates for network in allowed)


def _check_embedded(ip: IPAddress, embedded: ipaddress.IPv4Address,
                    allowed: Sequence[IPNetwork]) -> None:
    try:
        check_ip(embedded, allowed)
    except AddressRefused as exc:
        raise AddressRefused(str(ip), f"a form of {embedded}, {exc.reason}") from None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    # :: and ::1 sit inside ::/96 but are their own things (unspecified, loopback).
    compatible = ip in _V6("::/96") and int(ip) > 1
    if compatible or ip in _NAT64 or ip in _V6("::ffff:0:0:0/96"):
        return low32
    return None


def _forbidden_reason(ip: IPAddress) -> str | None:
    table = _FORBIDDEN_V4 if isinstance(ip, ipaddress.IPv4Address) else _FORBIDDEN_V6
    for network, reason in table:
        if ip in network:
            return reason
    return None


def _inet_aton(name: str) -> int | None:
    """Read 1 to 4 dotted numbers (decimal, 0x hex, 0 octal) the way inet_aton does."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        number = _aton_part(part)
        if number is None:
            return None
        numbers.append(number)
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 256 ** (4 - len(leading)):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return value


def _aton_part(part: str) -> int | None:
    # fullmatch rather than bare int(): int() would also take "-1", " 1\n" and "1_0".
    if _HEX.fullmatch(part):
        return int(part[2:], 16)
    if _OCTAL.fullmatch(part):
        return int(part, 8)
    if _DECIMAL.fullmatch(part):
        return int(part, 10)
    return None


def _check_hostname(host: str) -> None:
    name = host[:-1] if host.endswith(".") else host
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in name.split(".")):
        raise AddressRefused(host, "not a valid hostname")
