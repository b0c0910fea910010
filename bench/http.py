"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for the load generator.

httpx spends more CPU per request than the server under test does on a small machine, and the
generator shares that machine; this client writes one buffer and parses only the status line,
the framing headers and the body, so the calibration run (a bare Starlette endpoint) shows how
much of the machine is left for the server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

MAX_HEADER_LINES = 200


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()  # this request's own (an Idempotency-Key)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class ProtocolError(Exception):
    """The server answered something this client does not parse."""


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reusable = True

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> Reply:
        self.writer.write(raw)
        status_line = await self.reader.readline()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            self.reusable = False
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        headers = await self._headers()
        body = await self._body(headers)
        if headers.get("connection", "").lower() == "close":
            self.reusable = False
        return Reply(int(parts[1]), body)

    async def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADER_LINES):
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        raise ProtocolError("too many header lines")

    async def _body(self, headers: dict[str, str]) -> bytes:
        if "content-length" in headers:
            return await self.reader.readexactly(int(headers["content-length"]))
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    return b"".join(chunks)
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
        self.reusable = False
        return await self.reader.read()

    def close(self) -> None:
        self.writer.close()


class ConnectionPool:
    """At most `size` connections to one server: the number of concurrent clients."""

    def __init__(self, host: str, port: int, size: int, headers: dict[str, str]) -> None:
        self.host = host
        self.port = port
        self.size = size
        self._idle: asyncio.Queue[Connection | None] = asyncio.Queue()
        for _ in range(size):
            self._idle.put_nowait(None)  # a slot whose connection opens on first use
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._fixed = f"Host: {host}:{port}\r\n{extra}".encode("latin-1")

    def encode(self, request: Request) -> bytes:
        own = "".join(f"{name}: {value}\r\n" for name, value in request.headers)
        head = (f"{request.method} {request.path} HTTP/1.1\r\n{own}".encode("latin-1")
                + self._fixed)
        if request.body is None:
            return head + b"\r\n"
        return (head + f"Content-Type: {request.content_type}\r\nContent-Length: "
                       f"{len(request.body)}\r\n\r\n".encode("latin-1") + request.body)

    async def send(self, request: Request) -> Reply:
        raw = self.encode(request)
        connection = await self._idle.get()
        try:
            if connection is None:
                connection = await Connection.open(self.host, self.port)
            reply = await connection.send(raw)
        except BaseException:
            if connection is not None:
                connection.close()
            self._idle.put_nowait(None)
            raise
        if connection.reusable:
            self._idle.put_nowait(connection)
        else:
            connection.close()
            self._idle.put_nowait(None)
        return reply

    async def close(self) -> None:
        while not self._idle.empty():
            connection = self._idle.get_nowait()
            if connection is not None:
                connection.close()
