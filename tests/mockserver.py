"""A real HTTP server on 127.0.0.1 with one path per behaviour (like Scrapy's mockserver).

Start it as a context manager (tests wrap it in a fixture, see ``tests/test_fetch.py``);
``MockServer(tls=(certfile, keyfile))`` serves the same paths over HTTPS (certificates
from :func:`make_certificates`)::

    with MockServer() as server:
        server.serve_page("/zufang/pg1/", body, headers={"Content-Type": "text/html"})
        url = server.url("/zufang/pg1/")
        ...
        assert server.hits("/zufang/pg1/") == 1

Pages served with :meth:`serve_page` / :meth:`serve_sequence` / :meth:`serve_raw` take
precedence over the built-in behaviours below. :meth:`reset` forgets counters, served
pages and ``keepalive_timeout``. ``keepalive_timeout = s`` closes a kept-alive
connection that stays idle for s seconds, as real servers do.

Built-in paths:
    /robots.txt            User-agent: * / Disallow: /private/
    /ok                    200, UTF-8 page
    /gbk                   200, GBK bytes, <meta charset="gbk">, no charset header
    /wrongcharset          200, declares gbk (header and meta) but is UTF-8
    /429                   429 with Retry-After: 1, then 200
    /503-then-200          503, then 200
    /slow                  sleeps ``slow_seconds`` (1.5) before answering
    /hold?s=0.2            sleeps s seconds, for concurrency tests
    /reset                 closes the connection without a response
    /truncated             Content-Length larger than the body sent
    /chunked               200, Transfer-Encoding: chunked (with a chunk extension, a trailer)
    /gzip                  200, Content-Encoding: gzip
    /captcha               200 with <title>访问验证-安居客</title>
    /login-redirect        302 to /passport/login (a 200 login page)
    /418                   418
    /etag                  ETag "v1"; 304 when If-None-Match matches
    /dead-for-retry-budget always 503
    /then-drop             200, then the next request on the same connection is dropped
                           unanswered (a server closing a kept-alive connection as the
                           request arrives)
    /private/...           200 (robots.txt forbids it; a polite client never asks)
    anything else          404

Each request is recorded (path, headers, arrival time, which connection) and the server
tracks how many requests were in flight at once and how many connections it accepted.
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from rentwatch.sim.server import LoopbackSite

ROBOTS_TXT = b"User-agent: *\nDisallow: /private/\n"

OK_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>租房 ok</title></head>"
    "<body><p>整租·新天地 1室1厅 北 3500元/月</p></body></html>"
).encode()
GBK_TEXT = "整租·钱江之江新天地 1室1厅 南 2800元/月"
GBK_PAGE = (
    f'<html><head><meta charset="gbk"><title>杭州租房</title></head><body><p>{GBK_TEXT}</p>'
    "</body></html>"
).encode("gbk")
WRONG_CHARSET_TEXT = "合租·西溪诚园 4室1厅 次卧 1900元/月"
WRONG_CHARSET_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
    f"<title>错</title></head><body><p>{WRONG_CHARSET_TEXT}</p></body></html>"
).encode()
CAPTCHA_PAGE = (
    "<html><head><meta charset='utf-8'><title>访问验证-安居客</title></head>"
    "<body><div>请完成验证后继续访问</div></body></html>"
).encode()
LOGIN_PAGE = (
    "<html><head><meta charset='utf-8'><title>登录</title></head><body>手机号登录</body></html>"
).encode()


@dataclass(slots=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: Bytes written as they are instead of status + headers + body (malformed or odd answers).
    raw: bytes | None = None
    #: Close the connection after the answer (without saying so in a header).
    close: bool = False


@dataclass(slots=True)
class Hit:
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    connection: int = 0  # 1 for the first connection the server accepted, 2 for the next, ...


def make_certificates(
    directory: Path, names: tuple[str, ...] = ("127.0.0.1", "localhost"), *, prefix: str = "server"
) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate it signed for ``names``: (ca.pem, cert, key).

    A CA plus a leaf, not one self-signed leaf, because that is the shape verifiers
    expect (strict X.509 checks refuse a leaf acting as its own CA). Calling again with
    another ``prefix`` and ``names`` signs another server certificate with the same CA.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_pem, ca_key_pem = directory / "ca.pem", directory / "ca.key"
    if ca_pem.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_pem.read_bytes())
        ca_key = serialization.load_pem_private_key(ca_key_pem.read_bytes(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rentwatch test CA")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        ca_pem.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        ca_key_pem.write_bytes(
            ca_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for name in names:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt_names.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_pem, key_pem = directory / f"{prefix}.pem", directory / f"{prefix}.key"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, cert_pem, key_pem


class MockServer(LoopbackSite):
    """The fetch layer's counterpart: the built-in paths above, per-connection behaviour
    (its own handler on the shared LoopbackSite), optionally over TLS."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: tuple[str | Path, str | Path] | None = None,
    ) -> None:
        self.slow_seconds = 1.5
        #: Seconds a kept-alive connection may stay idle before the server closes it.
        self.keepalive_timeout: float | None = None
        self.connections = 0
        self.scheme = "https" if tls else "http"
        self._tls: ssl.SSLContext | None = None
        if tls:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(str(tls[0]), str(tls[1]))
        self._lock = threading.Lock()
        self._pages: dict[str, list[Reply]] = {}
        self._hits: dict[str, list[Hit]] = defaultdict(list)
        self.in_flight = 0
        self.max_in_flight = 0
        super().__init__(handler=_make_handler(self), host=host, port=port)
        self.httpd.block_on_close = False
        # /reset and /truncated drop connections on purpose: no tracebacks on stderr for those.
        self.httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    # -- API for tests -------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve_page(
        self, path: str, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """Answer ``path`` (with or without its query) with this body from now on."""
        self.serve_sequence(path, [Reply(status, body, dict(headers or {}))])

    def serve_sequence(self, path: str, replies: list[Reply]) -> None:
        """Answer successive requests to ``path`` with these replies; the last one repeats."""
        if not replies:
            raise ValueError(f"serve_sequence({path!r}) needs at least one reply")
        with self._lock:
            self._pages[path] = list(replies)

    def serve_raw(self, path: str, raw: bytes, *, close: bool = False) -> None:
        """Answer ``path`` with exactly these bytes; ``close``: then close the connection."""
        self.serve_sequence(path, [Reply(raw=raw, close=close)])

    def hits(self, path: str) -> int:
        with self._lock:
            return len(self._hits.get(path, []))

    def requests(self, path: str) -> list[Hit]:
        with self._lock:
            return list(self._hits.get(path, []))

    def total_hits(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._hits.values())

    def reset(self) -> None:
        """Forget hits, in-flight maxima and served pages (the built-ins stay)."""
        with self._lock:
            self._pages.clear()
            self._hits.clear()
            self.max_in_flight = 0
            self.connections = 0
        self.slow_seconds = 1.5
        self.keepalive_timeout = None

    # -- internals -----------------------------------------------------------------
    def _connected(self) -> int:
        with self._lock:
            self.connections += 1
            return self.connections

    def _record(self, raw_path: str, headers: dict[str, str], connection: int) -> int:
        path = urlsplit(raw_path).path
        with self._lock:
            self._hits[path].append(Hit(path, headers, time.monotonic(), connection))
            if raw_path != path:
                self._hits[raw_path].append(Hit(raw_path, headers, time.monotonic(), connection))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return len(self._hits[path])

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _served(self, raw_path: str, nth: int) -> Reply | None:
        with self._lock:
            replies = self._pages.get(raw_path) or self._pages.get(urlsplit(raw_path).path)
        if not replies:
            return None
        return replies[min(nth, len(replies)) - 1]


def _make_handler(server: MockServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        drop_next = False

        def setup(self) -> None:
            self.timeout = server.keepalive_timeout
            if server._tls is not None:
                # The handshake runs in this connection's thread, not in the accept loop.
                self.request = server._tls.wrap_socket(self.request, server_side=True)
            super().setup()
            self.number = server._connected()

        def finish(self) -> None:
            super().finish()
            if server._tls is not None:
                self.request.close()  # the wrapped socket; socketserver closes the bare one

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # quiet: pytest output stays readable

        def do_GET(self) -> None:  # noqa: N802
            nth = server._record(self.path, dict(self.headers.items()), self.number)
            try:
                if self.drop_next:
                    self._drop()
                else:
                    self._answer(nth)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                server._done()

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def _drop(self) -> None:
            """Close without a byte of response: the client sees a dropped connection."""
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            headers = dict(headers or {})
            self.send_response(status)
            headers.setdefault("Content-Type", "text/html; charset=utf-8")
            headers.setdefault("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _answer(self, nth: int) -> None:
            reply = server._served(self.path, nth)
            if reply is not None:
                if reply.raw is not None:
                    self.wfile.write(reply.raw)
                else:
                    self._send(reply.status, reply.body, reply.headers)
                if reply.close:
                    self._drop()
                return
            parts = urlsplit(self.path)
            path = parts.path
            if path == "/robots.txt":
                self._send(200, ROBOTS_TXT, {"Content-Type": "text/plain"})
            elif path == "/ok" or path.startswith("/private/"):
                self._send(200, OK_PAGE)
            elif path == "/gbk":
                self._send(200, GBK_PAGE, {"Content-Type": "text/html"})
            elif path == "/wrongcharset":
                self._send(200, WRONG_CHARSET_PAGE, {"Content-Type": "text/html; charset=gbk"})
            elif path == "/429":
                if nth == 1:
                    self._send(429, b"slow down", {"Retry-After": "1"})
                else:
                    self._send(200, OK_PAGE)
            elif path == "/503-then-200":
                if nth == 1:
                    self._send(503, b"busy")
                else:
                    self._send(200, OK_PAGE)
            elif path == "/slow":
                time.sleep(server.slow_seconds)
                self._send(200, OK_PAGE)
            elif path == "/hold":
                seconds = float(parse_qs(parts.query).get("s", ["0.2"])[0])
                time.sleep(seconds)
                self._send(200, OK_PAGE)
            elif path == "/reset":
                self._drop()
            elif path == "/truncated":
                body = OK_PAGE[:40]
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(OK_PAGE)))
                self.end_headers()
                self.wfile.write(body)
                self._drop()
            elif path == "/chunked":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for start in range(0, len(OK_PAGE), 50):
                    chunk = OK_PAGE[start : start + 50]
                    self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")
            elif path == "/gzip":
                self._send(200, gzip.compress(OK_PAGE), {"Content-Encoding": "gzip"})
            elif path == "/captcha":
                self._send(200, CAPTCHA_PAGE)
            elif path == "/login-redirect":
                self._send(302, b"", {"Location": "/passport/login?from=zufang"})
            elif path == "/passport/login":
                self._send(200, LOGIN_PAGE)
            elif path == "/418":
                self._send(418, b"I'm a teapot")
            elif path == "/etag":
                if self.headers.get("If-None-Match") == '"v1"':
                    self._send(304, b"", {"ETag": '"v1"', "Content-Length": "0"})
                else:
                    self._send(200, OK_PAGE, {"ETag": '"v1"'})
            elif path == "/dead-for-retry-budget":
                self._send(503, b"down for maintenance")
            elif path == "/then-drop":
                self._send(200, OK_PAGE)
                self.drop_next = True
            else:
                self._send(404, b"not found")

    return Handler


def main() -> None:
    """``python -m tests.mockserver [--port N]``: serve the built-in paths until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = MockServer(port=args.port).start()
    print(f"serving on {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
