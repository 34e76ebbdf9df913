"""A lean HTTP/1.1 transport for httpx on asyncio streams: the Fetcher's default.

httpx's own pool (httpcore) re-checks every pooled connection on every request, which
costs more CPU per page than parsing the page does. A crawler needs much less: a few
keep-alive connections per host, HTTP/1.1, TLS, Content-Length, chunked or
read-until-close bodies. This transport does exactly that behind httpx's one small
interface (``AsyncBaseTransport.handle_async_request``), so everything above it
(redirects, cookies, gzip/deflate decoding, timeouts config) stays httpx's.

What it handles, each covered by a test against a real server (``tests/test_fetch*.py``):
TLS with certificate and host name checks (``verify`` as in httpx); keep-alive reuse;
``Connection: close``; bodies without a length read until the server closes; 204/304
and HEAD without a body; 1xx interim answers skipped; obsolete header folding; headers
up to 1 MB; bodies over ``max_body_size`` refused with :class:`BodyTooLarge`.

Failures are raised as httpx's exceptions so that the retry layer sees one error tree:
``ConnectError``/``ConnectTimeout`` (no connection, TLS handshake or certificate
rejected), ``ReadTimeout`` (no complete answer in time), ``RemoteProtocolError``
(closed without an answer, body cut short, garbled status line), ``ReadError``/
``WriteError`` (reset mid-way), :class:`BodyTooLarge` (our own limit, not retried).

A kept-alive connection can die while idle. One whose EOF was already seen is dropped
before reuse; one the server closes just as our request arrives fails before a single
byte of answer. For an idempotent method that request is sent again, once, on a new
connection, as urllib3 and browsers do: the server never acted on it. Any other
failure is left to the retry layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from collections import defaultdict
from collections.abc import AsyncIterator

import httpx

log = logging.getLogger(__name__)

_HEAD_LIMIT = 1 << 20  # bytes of status line + headers; real sites send a few KB
_NO_BODY_STATUSES = frozenset({204, 304})
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_READ_SIZE = 1 << 16
#: Default for ``max_body_size``: far above any listing page (60-300 KB), far below trouble.
DEFAULT_MAX_BODY_SIZE = 20 * 1024 * 1024

Verify = bool | str | os.PathLike[str] | ssl.SSLContext


class BodyTooLarge(httpx.TransportError):
    """The response body is larger than the configured ``max_body_size``; not read."""


def too_large(request: httpx.Request, limit: int, seen: str) -> BodyTooLarge:
    return BodyTooLarge(
        f"response body over the max_body_size limit of {limit:,} bytes ({seen})",
        request=request,
    )


def check_ca_path(verify: str | os.PathLike[str]) -> str:
    """``verify`` as a path to a CA bundle file or directory, or a ValueError saying why not."""
    path = os.fspath(verify)
    if not (os.path.isfile(path) or os.path.isdir(path)):
        raise ValueError(f"verify={path!r}: no CA bundle file or directory at that path")
    return path


def ssl_context(verify: Verify = True) -> ssl.SSLContext:
    """An SSL context from httpx-style ``verify``.

    True: certificates checked against the system store plus certifi's bundle; a path:
    that CA bundle file (or directory) only; an ``ssl.SSLContext``: used as it is;
    False: no certificate or host name checks (never for real sites).
    """
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif verify is True:
        context = ssl.create_default_context()
        try:
            import certifi

            context.load_verify_locations(certifi.where())
        except ImportError:  # the system store is used alone
            pass
    else:
        path = check_ca_path(verify)
        if os.path.isdir(path):
            context = ssl.create_default_context(capath=path)
        else:
            context = ssl.create_default_context(cafile=path)
    # HTTP/1.1 is all we speak; saying so stops an HTTP/2 server from guessing otherwise.
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class _Stale(Exception):
    """No byte of answer came on a connection: the request may be sent again."""

    def __init__(self, error: httpx.TransportError) -> None:
        super().__init__(str(error))
        self.error = error


class _Body(httpx.AsyncByteStream):
    """The read body, handed to httpx in slices so that gzip is inflated a slice at a time."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._content
        if len(content) <= _READ_SIZE:
            yield content
            return
        view = memoryview(content)
        for start in range(0, len(content), _READ_SIZE):
            yield bytes(view[start : start + _READ_SIZE])


def _timeouts(request: httpx.Request) -> tuple[float | None, float | None]:
    timeout = request.extensions.get("timeout", {})
    return timeout.get("connect"), timeout.get("read")


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive transport; ``verify`` as httpx's (True, False, CA path, context)."""

    def __init__(
        self,
        *,
        verify: Verify = True,
        max_idle_per_host: int = 64,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        # Built on first https use: loading the CA store costs ~20 ms and plain http needs none.
        self._verify = verify
        self._ssl_context: ssl.SSLContext | None = (
            verify if isinstance(verify, ssl.SSLContext) else None
        )
        self._max_idle = max_idle_per_host
        self._max_body = max_body_size
        self._idle: dict[tuple[str, str, int], list[_Conn]] = defaultdict(list)

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl_context(self._verify)
        return self._ssl_context

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        connect_timeout, read_timeout = _timeouts(request)
        data = self._request_head(request) + await request.aread()
        idle = self._idle[key]
        conn = None
        while idle and conn is None:
            candidate = idle.pop()
            if candidate.usable():
                conn = candidate
            else:
                candidate.close()
        reused = conn is not None
        if conn is None:
            conn = await self._connect(request, key, connect_timeout)
        while True:
            try:
                status, reason, headers, content, keep = await self._exchange(
                    request, conn, data, read_timeout
                )
                break
            except _Stale as stale:
                conn.close()
                if not (reused and request.method in _IDEMPOTENT):
                    raise stale.error from stale.__cause__
                log.debug(
                    "%s %s: kept-alive connection was dead, sending again", request.method, url
                )
                reused = False
                conn = await self._connect(request, key, connect_timeout)
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
            stream=_Body(content),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
            request=request,
        )

    async def aclose(self) -> None:
        conns = [conn for conns in self._idle.values() for conn in conns]
        self._idle.clear()
        for conn in conns:
            conn.close()
        if conns:
            # A TLS close sends close_notify on later loop turns: let it go out before the
            # loop ends, but never wait long on a peer that does not answer.
            waits = [asyncio.ensure_future(conn.writer.wait_closed()) for conn in conns]
            done, pending = await asyncio.wait(waits, timeout=1.0)
            for task in pending:
                task.cancel()
            for task in done:
                with contextlib.suppress(Exception):
                    task.result()

    @staticmethod
    def _request_head(request: httpx.Request) -> bytes:
        lines = [b"%s %s HTTP/1.1" % (request.method.encode(), request.url.raw_path)]
        lines += [name + b": " + value for name, value in request.headers.raw]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    async def _connect(
        self, request: httpx.Request, key: tuple[str, str, int], timeout: float | None
    ) -> _Conn:
        scheme, host, port = key
        tls = scheme == "https"
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host,
                    port,
                    ssl=self._ssl() if tls else None,
                    server_hostname=host if tls else None,
                    limit=_HEAD_LIMIT,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connect to {host}:{port} timed out", request=request
            ) from exc
        except OSError as exc:  # ssl.SSLError included: handshake or certificate refused
            raise httpx.ConnectError(f"{exc} ({host}:{port})", request=request) from exc
        return _Conn(reader, writer)

    async def _exchange(
        self,
        request: httpx.Request,
        conn: _Conn,
        data: bytes,
        timeout: float | None,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes, bool]:
        reader = conn.reader
        try:
            async with asyncio.timeout(timeout):
                try:
                    conn.writer.write(data)
                    await conn.writer.drain()
                except OSError as exc:
                    raise _Stale(httpx.WriteError(str(exc), request=request)) from exc
                while True:
                    raw_head = await _read_head(reader, request)
                    status, reason, headers, keep, length, chunked = _parse_head(raw_head, request)
                    # 1xx answers (100 Continue, 103 Early Hints) come before the real one.
                    if not 100 <= status < 200 or status == 101:
                        break
                if request.method == "HEAD" or status in _NO_BODY_STATUSES or status < 200:
                    return status, reason, headers, b"", keep and status != 101
                limit = self._max_body
                if chunked:
                    content = await _read_chunked(reader, request, limit)
                elif length is not None:
                    if length > limit:
                        raise too_large(request, limit, f"Content-Length {length:,}")
                    try:
                        content = await reader.readexactly(length)
                    except asyncio.IncompleteReadError as exc:
                        raise httpx.RemoteProtocolError(
                            "peer closed connection without sending complete message body: "
                            f"received {len(exc.partial)} bytes, expected {length}",
                            request=request,
                        ) from exc
                else:
                    # Neither length nor chunks: the body ends when the server closes.
                    content, keep = await _read_until_close(reader, request, limit), False
                return status, reason, headers, content, keep
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out waiting for the response", request=request) from exc
        except OSError as exc:  # resets, and TLS errors mid-stream (ssl.SSLError)
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc


async def _read_head(reader: asyncio.StreamReader, request: httpx.Request) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        error = httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
        if exc.partial:
            raise error from exc
        raise _Stale(error) from exc
    except asyncio.LimitOverrunError as exc:
        raise httpx.RemoteProtocolError(
            f"response headers longer than {_HEAD_LIMIT:,} bytes", request=request
        ) from exc
    except ConnectionError as exc:
        raise _Stale(httpx.ReadError(str(exc) or type(exc).__name__, request=request)) from exc


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
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            # Obsolete line folding (RFC 9112 5.2): the line continues the previous value.
            if headers:
                name, value = headers[-1]
                headers[-1] = (name, value + b" " + line.strip())
            continue
        name, sep, value = line.partition(b":")
        if sep:
            headers.append((name.strip(), value.strip()))
    length: int | None = None
    chunked = False
    connection = b""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            if not value.isdigit():
                raise httpx.RemoteProtocolError(
                    f"bad Content-Length {value[:40]!r}", request=request
                )
            if length is not None and length != int(value):
                raise httpx.RemoteProtocolError("conflicting Content-Length", request=request)
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


async def _read_chunked(reader: asyncio.StreamReader, request: httpx.Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
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
            total += size
            if total > limit:
                raise too_large(request, limit, f"chunked, over {total:,} bytes so far")
            chunks.append((await reader.readexactly(size + 2))[:-2])
    except asyncio.IncompleteReadError as exc:
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body: incomplete chunked read",
            request=request,
        ) from exc


async def _read_until_close(
    reader: asyncio.StreamReader, request: httpx.Request, limit: int
) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := await reader.read(_READ_SIZE):
        total += len(chunk)
        if total > limit:
            raise too_large(request, limit, f"no Content-Length, over {total:,} bytes so far")
        chunks.append(chunk)
    return b"".join(chunks)


__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "BodyTooLarge",
    "LeanTransport",
    "check_ca_path",
    "ssl_context",
]
