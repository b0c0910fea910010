"""The address guard refuses non-public targets in every encoding, before connecting."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from app.settings import load_settings
from app.webhooks.address_guard import (
    AddressRefused,
    GuardedTransport,
    check_ip,
    check_url,
    parse_ip_host,
    resolve_and_check,
)
from app.webhooks.outbound import client_for_settings, make_http_client

LOOPBACK_ALLOWED = (ipaddress.ip_network("127.0.0.0/8"),)
_REAL_GETADDRINFO = socket.getaddrinfo


# --- fixtures ------------------------------------------------------------------------------

class _Receiver(BaseHTTPRequestHandler):
    """Answers 200 (or a redirect for /redirect) and records each request's Host header."""

    seen_hosts: list[str] = []

    def do_GET(self) -> None:
        type(self).seen_hosts.append(self.headers.get("host", ""))
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("location", "http://127.0.0.1:9/elsewhere")
        else:
            self.send_response(200)
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


def _serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    _Receiver.seen_hosts = []
    yield from _serve(ThreadingHTTPServer(("127.0.0.1", 0), _Receiver))


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every socket connect attempt, recorded and blocked."""
    attempts: list[object] = []

    def refuse_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise AssertionError(f"connection attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    return attempts


def _fake_dns(monkeypatch: pytest.MonkeyPatch, names: dict[str, list[str]]) -> list[str]:
    """Resolve the given names to the given addresses; return the list of names looked up."""
    looked_up: list[str] = []

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        looked_up.append(host)
        if host not in names:
            return _REAL_GETADDRINFO(host, port, *args, **kwargs)  # IP literals
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (ip, port))
            for ip in names[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


# --- check_ip --------------------------------------------------------------------------------

FORBIDDEN_IPS = {
    "loopback": "127.0.0.1",
    "loopback_range": "127.8.9.10",
    "private_10": "10.1.2.3",
    "private_172": "172.16.0.1",
    "private_192": "192.168.1.1",
    "link_local": "169.254.1.1",
    "cloud_metadata": "169.254.169.254",
    "cgnat": "100.64.0.1",
    "unspecified_v4": "0.0.0.0",
    "this_network": "0.1.2.3",
    "benchmark": "198.18.0.1",
    "documentation_v4": "203.0.113.7",
    "multicast_v4": "224.0.0.1",
    "reserved_v4": "240.0.0.1",
    "broadcast": "255.255.255.255",
    "loopback_v6": "::1",
    "unspecified_v6": "::",
    "link_local_v6": "fe80::1",
    "ula": "fd00::1",
    "site_local": "fec0::1",
    "multicast_v6": "ff02::1",
    "documentation_v6": "2001:db8::1",
    "mapped_loopback": "::ffff:127.0.0.1",
    "mapped_loopback_hex": "::ffff:7f00:1",
    "mapped_private": "::ffff:10.0.0.1",
    "compatible_loopback": "::127.0.0.1",
    "nat64_loopback": "64:ff9b::7f00:1",
    "sixtofour_loopback": "2002:7f00:1::1",
    "teredo": "2001:0:4136:e378:8000:63bf:80ff:fffe",
}


@pytest.mark.parametrize("address", FORBIDDEN_IPS.values(), ids=FORBIDDEN_IPS.keys())
def test_check_ip_refuses_non_public_address(address: str) -> None:
    with pytest.raises(AddressRefused):
        check_ip(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111",
                                     "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_check_ip_allows_public_address(address: str) -> None:
    check_ip(ipaddress.ip_address(address), ())


def test_refusal_message_names_host_and_reason() -> None:
    with pytest.raises(AddressRefused, match=r"^refused: 127\.0\.0\.1 is a loopback address$"):
        check_ip(ipaddress.ip_address("127.0.0.1"), ())


def test_mapped_address_refusal_names_embedded_ipv4() -> None:
    with pytest.raises(AddressRefused, match=r"is a form of 127\.0\.0\.1, a loopback address"):
        check_ip(ipaddress.ip_address("::ffff:127.0.0.1"), ())


def test_allowed_network_admits_loopback() -> None:
    check_ip(ipaddress.ip_address("127.0.0.1"), LOOPBACK_ALLOWED)


def test_allowed_ipv4_network_admits_its_mapped_form() -> None:
    check_ip(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK_ALLOWED)


def test_allowed_network_does_not_admit_other_private_ranges() -> None:
    with pytest.raises(AddressRefused, match="private"):
        check_ip(ipaddress.ip_address("10.0.0.1"), LOOPBACK_ALLOWED)


def test_refused_address_is_an_httpx_transport_error() -> None:
    assert issubclass(AddressRefused, httpx.TransportError)


# --- host parsing and check_url ------------------------------------------------------------

@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0x7f.1", "0177.0.0.1",
                                  "127.1", "127.0.1", "0", "1.0x1.01", "4294967295"])
def test_numeric_host_reads_as_inet_aton_does(host: str) -> None:
    expected = ipaddress.IPv4Address(socket.inet_aton(host))
    assert parse_ip_host(host) == expected


@pytest.mark.parametrize("host", ["0x", "08.1", "256.1.1.1", "1.2.3.4.5", "4294967296",
                                  "1.16777216", "1_0.1", "-1.1", " 1.1", "1\n.1"])
def test_invalid_numeric_host_is_refused_not_looked_up(host: str) -> None:
    with pytest.raises(AddressRefused, match="not a valid IPv4 address"):
        parse_ip_host(host)


def test_hostname_parses_as_no_address() -> None:
    assert parse_ip_host("hooks.example.com") is None


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook",
    "http://10.0.0.5:8080/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://127.1/",
    "http://0.0.0.0/",
    "http://localhost:3000/",
    "http://api.localhost/",
])
def test_check_url_refuses_forbidden_literal(url: str) -> None:
    with pytest.raises(AddressRefused, match=r"^refused: "):
        check_url(url, ())


def test_check_url_refuses_octal_dotted_host() -> None:
    # httpx itself rejects 0177.0.0.1 as a URL; either way it is refused.
    with pytest.raises(AddressRefused):
        check_url("http://0177.0.0.1/", ())


@pytest.mark.parametrize("url", ["ftp://example.com/", "file:///etc/passwd",
                                 "gopher://example.com/", "javascript:alert(1)"])
def test_check_url_refuses_non_http_scheme(url: str) -> None:
    with pytest.raises(AddressRefused, match="not an http or https URL"):
        check_url(url, ())


def test_check_url_refuses_url_without_host() -> None:
    with pytest.raises(AddressRefused, match="without a host"):
        check_url("http:///path", ())


def test_check_url_refuses_malformed_hostname() -> None:
    with pytest.raises(AddressRefused, match="not a valid hostname"):
        check_url("http://bad..example.com/", ())


def test_check_url_accepts_public_hostname_without_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up = _fake_dns(monkeypatch, {})
    check_url("https://hooks.example.com/in", ())
    assert looked_up == []


def test_check_url_accepts_allowed_loopback() -> None:
    check_url("http://127.0.0.1:8000/hook", LOOPBACK_ALLOWED)


# --- resolve_and_check -------------------------------------------------------------------

def test_public_name_resolving_to_private_address_is_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"hooks.example.com": ["10.0.0.7"]})
    with pytest.raises(AddressRefused, match=r"hooks\.example\.com is a name for 10\.0\.0\.7"):
        resolve_and_check("hooks.example.com", 443, ())


def test_name_is_refused_if_any_resolved_address_is_forbidden(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(AddressRefused):
        resolve_and_check("hooks.example.com", 443, ())


def test_resolution_returns_each_checked_address_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34", "93.184.216.34",
                                                  "2606:2800:220:1::1"]})
    assert resolve_and_check("hooks.example.com", 443, ()) == [
        "93.184.216.34", "2606:2800:220:1::1"]


# --- the guarded client: refusals happen before any connection ---------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/",
    "http://10.0.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:8000/",
    "http://[::ffff:127.0.0.1]:8000/",
    "http://2130706433:8000/",
    "http://0x7f.1:8000/",
    "http://localhost:8000/",
])
def test_guarded_client_refuses_without_connecting(url: str, connections: list[object]) -> None:
    with make_http_client(allowed_networks=(), timeout_s=2) as client:
        with pytest.raises(AddressRefused):
            client.get(url)
    assert connections == []


def test_guarded_client_refuses_name_rebound_to_private(
        monkeypatch: pytest.MonkeyPatch, connections: list[object]) -> None:
    _fake_dns(monkeypatch, {"hooks.example.com": ["192.168.0.10"]})
    with make_http_client(allowed_networks=(), timeout_s=2) as client:
        with pytest.raises(AddressRefused, match=r"hooks\.example\.com"):
            client.post("https://hooks.example.com/in", content=b"{}")
    assert connections == []


def test_refusal_carries_the_refused_request(connections: list[object]) -> None:
    with make_http_client(allowed_networks=(), timeout_s=2) as client:
        with pytest.raises(AddressRefused) as refused:
            client.get("http://127.0.0.1:8000/hook")
    assert refused.value.request.url == "http://127.0.0.1:8000/hook"


def test_refusal_is_caught_as_httpx_error(connections: list[object]) -> None:
    with make_http_client(allowed_networks=(), timeout_s=2) as client:
        with pytest.raises(httpx.HTTPError, match="refused"):
            client.get("http://127.0.0.1:8000/hook")


def test_unresolvable_name_is_a_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_name(*args: object, **kwargs: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    with make_http_client(allowed_networks=(), timeout_s=2) as client:
        with pytest.raises(httpx.ConnectError):
            client.get("http://nowhere.example.com/")


# --- the guarded client: allowed traffic reaches the checked address ---------------------

def test_guarded_client_reaches_allowed_loopback(receiver: ThreadingHTTPServer) -> None:
    port = receiver.server_address[1]
    with make_http_client(allowed_networks=LOOPBACK_ALLOWED, timeout_s=5) as client:
        response = client.get(f"http://127.0.0.1:{port}/hook")
    assert response.status_code == 200
    assert response.text == "ok"


def test_guarded_client_keeps_host_header_and_connects_to_checked_ip(
        receiver: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    port = receiver.server_address[1]
    looked_up = _fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    with make_http_client(allowed_networks=LOOPBACK_ALLOWED, timeout_s=5) as client:
        response = client.get(f"http://hooks.example.com:{port}/hook")
    assert response.status_code == 200
    assert _Receiver.seen_hosts == [f"hooks.example.com:{port}"]
    # One lookup of the name: the socket then went to the literal checked, not a fresh answer.
    assert looked_up.count("hooks.example.com") == 1


def test_guarded_client_does_not_follow_redirects(receiver: ThreadingHTTPServer) -> None:
    port = receiver.server_address[1]
    with make_http_client(allowed_networks=LOOPBACK_ALLOWED, timeout_s=5) as client:
        response = client.get(f"http://127.0.0.1:{port}/redirect")
    assert response.status_code == 302
    assert len(_Receiver.seen_hosts) == 1


def test_guarded_client_ignores_proxy_environment(
        receiver: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://10.255.255.1:3128")
    port = receiver.server_address[1]
    with make_http_client(allowed_networks=LOOPBACK_ALLOWED, timeout_s=5) as client:
        response = client.get(f"http://127.0.0.1:{port}/hook")
    assert response.status_code == 200


def test_guarded_client_sends_user_agent(receiver: ThreadingHTTPServer) -> None:
    client = make_http_client(allowed_networks=LOOPBACK_ALLOWED, timeout_s=5)
    assert client.headers["user-agent"] == "Flowdesk/0.1"
    client.close()


def test_injected_transport_replaces_the_guarded_one() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(204))
    with make_http_client(allowed_networks=(), timeout_s=1, transport=transport) as client:
        assert client.post("https://hooks.example.com/in").status_code == 204


def test_client_for_settings_uses_allowed_networks_and_timeout(
        receiver: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "test")
    monkeypatch.setenv("ALLOWED_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("HTTP_TIMEOUT_S", "3.5")
    port = receiver.server_address[1]
    with client_for_settings(load_settings()) as client:
        assert client.timeout.connect == 3.5
        assert client.get(f"http://127.0.0.1:{port}/").status_code == 200


# --- TLS: certificate and SNI checked against the hostname, not the IP -------------------

def _self_signed(hostname: str, directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, Path, list[str]]]:
    cert_path, key_path = _self_signed("hooks.example.com", tmp_path)
    server_names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    _Receiver.seen_hosts = []
    for running in _serve(server):
        yield running, cert_path, server_names


def test_tls_is_verified_against_hostname_while_connecting_to_ip(
        tls_receiver: tuple[ThreadingHTTPServer, Path, list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, cert_path, server_names = tls_receiver
    _fake_dns(monkeypatch, {"hooks.example.com": ["127.0.0.1"]})
    trust = ssl.create_default_context(cafile=str(cert_path))
    transport = GuardedTransport(allowed=LOOPBACK_ALLOWED, verify=trust)
    with httpx.Client(transport=transport, trust_env=False) as client:
        response = client.get(f"https://hooks.example.com:{server.server_address[1]}/")
    assert response.status_code == 200
    assert server_names == ["hooks.example.com"]
