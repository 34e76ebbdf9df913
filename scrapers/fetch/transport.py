"""A lean HTTP/1.1 transport for httpx on asyncio streams: the Fetcher's default.

httpx's own pool (httpcore) re-checks every pooled connection on every request, which
costs more CPU per page than parsing the page does. A crawler needs much less: a few
keep-alive connections per host, HTTP/1.1, TLS, Content-Length or chunked bodies. This
transport does exactly that behind httpx's one small interface
(``AsyncBaseTransport.handle_async_request``), so everything above it (redirects,
cookies, gzip/deflate decoding, timeouts config) stays httpx's.

Failures are raised as httpx's exceptions so that the retry layer sees one error tree:
``ConnectError``/``ConnectTimeout`` (no connection), ``ReadTimeout`` (no complete
answer in time), ``RemoteProtocolError`` (closed without an answer, body cut short,
garbled status line), ``ReadError``/``WriteError`` (reset mid-way). An idle
connection the server has closed is dropped before reuse (its EOF was seen); one that
closes while our request is on the way fails like any other, and the retry layer
decides (no hidden second request).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import defaultdict

import httpx

_HEAD_LIMIT = 1 << 20  # bytes of status line + headers; real sites send a few KB
_NO_BODY_STATUSES = frozenset({204, 304})


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None]:
    timeout = request.extensions.get("timeout", {})
    return timeout.get("connect"), timeout.get("read")


class LeanTransport(httpx.AsyncBaseTransport):
    def __init__(
        self, *, ssl_context: ssl.SSLContext | None = None, max_idle_per_host: int = 64
    ) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle_per_host
        self._idle: dict[tuple[str, str, int], list[_Conn]] = defaultdict(list)

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
            try:
                import certifi

                self._ssl_context.load_verify_locations(certifi.where())
            except ImportError:  # the system store is used
                pass
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        connect_timeout, read_timeout = _timeouts(request)
        head = self._request_head(request)
        body = await request.aread()
        idle = self._idle[key]
        conn = None
        while idle and conn is None:
            candidate = idle.pop()
            if candidate.usable():
                conn = candidate
            else:
                candidate.close()
        if conn is None:
            conn = await self._connect(request, key, connect_timeout)
        try:
            status, reason, headers, content, keep = await self._exchange(
                request, conn, head + body, read_timeout
            )
        except BaseException:
            conn.close()
            raise
        if keep and len(idle) < self._max_idle:
            idle.append(conn)
        else:
            conn.close()
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
            request=request,
        )

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    @staticmethod
    def _request_head(request: httpx.Request) -> bytes:
        lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
        lines += [name + b": " + value for name, value in request.headers.raw]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def _connect(
        self, request: httpx.Request, key: tuple[str, str, int], timeout: float | None
    ) -> _Conn:
        scheme, host, port = key
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=self._ssl() if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None,
                    limit=_HEAD_LIMIT,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connect to {host}:{port} timed out", request=request
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"{exc} ({host}:{port})", request=request) from exc
        return _Conn(reader, writer)

    async def _exchange(
        self,
        request: httpx.Request,
        conn: _Conn,
        data: bytes,
        timeout: float | None,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
        try:
            async with asyncio.timeout(timeout):
                try:
                    conn.writer.write(data)
                    await conn.writer.drain()
                except OSError as exc:
                    raise httpx.WriteError(str(exc), request=request) from exc
                try:
                    raw_head = await conn.reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    raise httpx.RemoteProtocolError(
                        "Server disconnected without sending a response.", request=request
                    ) from exc
                except asyncio.LimitOverrunError as exc:
                    raise httpx.RemoteProtocolError(
                        "response headers too long", request=request
                    ) from exc
                status, reason, headers, keep, length, chunked = _parse_head(raw_head, request)
                if request.method == "HEAD" or status in _NO_BODY_STATUSES or status < 200:
                    return status, reason, headers, b"", keep
                if chunked:
                    content = await _read_chunked(conn.reader, request)
                elif length is not None:
                    try:
                        content = await conn.reader.readexactly(length)
                    except asyncio.IncompleteReadError as exc:
                        raise httpx.RemoteProtocolError(
                            "peer closed connection without sending complete message body: "
                            f"received {len(exc.partial)} bytes, expected {length}",
                            request=request,
                        ) from exc
                else:
                    content, keep = await conn.reader.read(), False
                return status, reason, headers, content, keep
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the response", request=request) from exc
        except ConnectionError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc


def _parse_head(
    raw: bytes, request: httpx.Request
) -> tuple[int, bytes, list[tuple[bytes, bytes]], bool, int | None, bool]:
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError(f"bad status line {lines[0][:80]!r}", request=request)
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else b""
    headers: list[tuple[bytes, bytes]] = []
    length: int | None = None
    chunked = False
    connection = b""
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name, value = name.strip(), value.strip()
        headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" and value.isdigit():
            length = int(value)
        elif lowered == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif lowered == b"connection":
            connection = value.lower()
    if version == b"HTTP/1.1":
        keep = b"close" not in connection
    else:
        keep = b"keep-alive" in connection
    return status, reason, headers, keep, length, chunked


async def _read_chunked(reader: asyncio.StreamReader, request: httpx.Request) -> bytes:
    chunks: list[bytes] = []
    try:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise httpx.RemoteProtocolError(
                    f"bad chunk size {size_line[:40]!r}", request=request
                ) from exc
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers
                return b"".join(chunks)
            chunks.append((await reader.readexactly(size + 2))[:-2])
    except asyncio.IncompleteReadError as exc:
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body: incomplete chunked read",
            request=request,
        ) from exc


__all__ = ["LeanTransport"]
