"""The transport under the Fetcher over HTTPS and plain HTTP, against real servers on 127.0.0.1.

Real listing sites are HTTPS: every behaviour here runs over TLS (a test CA and server
certificate made with ``cryptography``) and most also over plain HTTP, through the
transport httpx builds itself (its pool, its TLS), as the Fetcher uses it.
"""

from __future__ import annotations

import asyncio
import gzip
import ssl

import pytest

from db import open_db
from db.pages import PageArchive
from scrapers.fetch import Fetcher, FetchSettings
from scrapers.source import Politeness
from tests.mockserver import GBK_PAGE, OK_PAGE, MockServer, make_certificates

FAST = Politeness(delay=0, jitter=0, concurrency=1)
MB20 = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """(CA file, good cert, good key, cert for another name, its key), one CA for both."""
    directory = tmp_path_factory.mktemp("pki")
    ca, cert, key = make_certificates(directory)
    _, wrong_cert, wrong_key = make_certificates(directory, ("other.example",), prefix="wrong")
    return ca, cert, key, wrong_cert, wrong_key


@pytest.fixture(scope="module")
def servers(pki):
    ca, cert, key, wrong_cert, wrong_key = pki
    with (
        MockServer() as plain,
        MockServer(tls=(cert, key)) as tls,
        MockServer(tls=(wrong_cert, wrong_key)) as wrong,
    ):
        yield {"http": plain, "https": tls, "wrong": wrong}


def _fresh(server: MockServer):
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def tls_server(servers):
    yield from _fresh(servers["https"])


@pytest.fixture
def wrong_server(servers):
    yield from _fresh(servers["wrong"])


@pytest.fixture(params=["http", "https"])
def server(request, servers):
    """Each test twice: over plain HTTP and over TLS."""
    yield from _fresh(servers[request.param])


@pytest.fixture
def ca(pki):
    return str(pki[0])


@pytest.fixture
def archive(tmp_path):
    db = open_db(tmp_path / "rentwatch.db")
    yield PageArchive(db)
    db.close()


def settings(ca: str | None, **overrides) -> FetchSettings:
    values = dict(
        politeness=FAST,
        timeout=5.0,
        backoff_base=0.01,
        backoff_max=1.0,
        max_retries=2,
        obey_robots=False,
        allow_private=True,  # the servers are on loopback
    )
    if ca is not None:
        values["verify"] = ca
    values.update(overrides)
    return FetchSettings(**values)


async def _fetch_paths(server, paths, *, ca, archive=None, pause=0.0, **kw):
    config = settings(ca, **kw)
    async with Fetcher(config, archive=archive) as f:
        results = []
        for n, path in enumerate(paths):
            if n and pause:
                await asyncio.sleep(pause)
            results.append(await f.fetch(server.url(path)))
    return results, f.stats


def fetch_paths(server, paths, **kw):
    return asyncio.run(_fetch_paths(server, paths, **kw))


# -- TLS -------------------------------------------------------------------------------


def test_tls_answers_equal_plain_http_answers(servers, tls_server, ca):
    paths = ["/ok", "/gzip", "/chunked", "/gbk", "/nothing-here"]
    plain, _ = fetch_paths(servers["http"], paths, ca=ca)
    secure, stats = fetch_paths(tls_server, paths, ca=ca)
    for a, b in zip(plain, secure, strict=True):
        assert (a.status, a.body, a.text, a.encoding) == (b.status, b.body, b.text, b.encoding)
        drop = {"date", "server"}
        assert {k: v for k, v in a.headers.items() if k not in drop} == {
            k: v for k, v in b.headers.items() if k not in drop
        }
        assert b.final_url.startswith("https://127.0.0.1:")
    ok, gz, chunked, gbk, missing = secure
    assert ok.ok and ok.body == OK_PAGE
    assert gz.ok and gz.body == OK_PAGE and gz.headers["content-encoding"] == "gzip"
    assert chunked.ok and chunked.body == OK_PAGE and "content-length" not in chunked.headers
    assert gbk.body == GBK_PAGE and gbk.encoding == "gb18030"
    assert missing.status == 404 and missing.error == "HTTP 404 Not Found"
    assert stats["pages_by_status"] == {"200": 4, "404": 1}


def test_keep_alive_reuses_one_tls_connection(tls_server, ca):
    paths = ["/ok", "/gzip", "/chunked", "/gbk", "/ok"]
    results, _ = fetch_paths(tls_server, paths, ca=ca, obey_robots=True)
    assert all(r.ok for r in results)
    assert tls_server.connections == 1
    assert {hit.connection for p in ("/robots.txt", *paths) for hit in tls_server.requests(p)} == {
        1
    }


def test_certificate_for_another_name_is_a_clear_error(wrong_server, ca):
    (result,), stats = fetch_paths(wrong_server, ["/ok"], ca=ca)
    assert result.status is None and result.body is None and not result.ok
    assert result.error == (
        f"TLS certificate of 127.0.0.1:{wrong_server.port} rejected "
        "(IP address mismatch, certificate is not valid for '127.0.0.1'.): not retried"
    )
    assert result.retries == 0 and stats["retries"] == 0
    assert wrong_server.total_hits() == 0  # no request was sent over the refused connection


def test_certificate_refused_for_robots_txt_says_so(wrong_server, ca, archive):
    (result,), stats = fetch_paths(wrong_server, ["/ok"], ca=ca, obey_robots=True, archive=archive)
    assert result.disallowed == (
        f"robots.txt unreachable (TLS certificate of 127.0.0.1:{wrong_server.port} rejected "
        "(IP address mismatch, certificate is not valid for '127.0.0.1'.): not retried): "
        "treated as Disallow: / for this run"
    )
    assert stats["robots_requests"] == 1 and stats["requests"] == 1
    error = archive.db.execute("SELECT error FROM pages WHERE kind = 'robots'").fetchone()[0]
    assert error.startswith("TLS certificate of 127.0.0.1:")


def test_unknown_ca_is_refused_by_default(tls_server):
    # ca=None: the default trust store (system + certifi), which does not know the test CA.
    (result,), _ = fetch_paths(tls_server, ["/ok"], ca=None)
    assert result.error == (
        f"TLS certificate of 127.0.0.1:{tls_server.port} rejected "
        "(unable to get local issuer certificate): not retried"
    )
    assert tls_server.total_hits() == 0


def test_verify_false_and_an_ssl_context_are_accepted(wrong_server, ca):
    (unchecked,), _ = fetch_paths(wrong_server, ["/ok"], ca=None, verify=False)
    assert unchecked.ok and unchecked.body == OK_PAGE
    (by_context,), _ = fetch_paths(
        wrong_server, ["/ok"], ca=None, verify=ssl.create_default_context(cafile=ca)
    )
    assert by_context.error.startswith("TLS certificate of 127.0.0.1:")


def test_verify_naming_a_missing_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-ca.pem"

    async def go():
        async with Fetcher(settings(str(missing))):
            pass

    with pytest.raises(ValueError, match=r"verify='.*no-such-ca.pem': no CA bundle file"):
        asyncio.run(go())


# -- answers of every shape, over HTTP and TLS ------------------------------------------


def _head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode()


HTML = "Content-Type: text/html; charset=utf-8"


def test_body_without_length_is_read_until_close(server, ca):
    server.serve_raw("/until-close", _head("200 OK", HTML) + OK_PAGE, close=True)
    (first, second), stats = fetch_paths(server, ["/until-close", "/ok"], ca=ca)
    assert first.ok and first.body == OK_PAGE and "content-length" not in first.headers
    assert second.ok and second.body == OK_PAGE
    assert server.connections == 2 and stats["retries"] == 0


def test_connection_close_answer_is_not_reused(server, ca):
    server.serve_page("/closing", OK_PAGE, headers={"Connection": "close"})
    results, stats = fetch_paths(server, ["/closing", "/ok", "/closing", "/ok"], ca=ca)
    assert [r.body for r in results] == [OK_PAGE] * 4
    assert stats["retries"] == 0
    # 1st connection: /closing; 2nd: /ok then /closing; 3rd: /ok.
    assert [h.connection for h in server.requests("/closing")] == [1, 2]
    assert [h.connection for h in server.requests("/ok")] == [2, 3]


def test_204_and_304_have_no_body_and_keep_the_connection(server, ca):
    server.serve_raw("/204", _head("204 No Content", "X-Kind: empty"))
    server.serve_raw("/304", _head("304 Not Modified", 'ETag: "v9"'))
    results, stats = fetch_paths(server, ["/204", "/ok", "/304", "/ok"], ca=ca)
    no_content, ok1, not_modified, ok2 = results
    assert (no_content.status, no_content.body, no_content.headers["x-kind"]) == (204, b"", "empty")
    assert (not_modified.status, not_modified.body) == (304, b"")
    assert not_modified.error == "HTTP 304 Not Modified"  # no archived copy to answer with
    assert ok1.body == ok2.body == OK_PAGE
    assert server.connections == 1 and stats["retries"] == 0


def test_interim_1xx_answers_are_skipped(server, ca):
    raw = (
        _head("100 Continue")
        + _head("103 Early Hints", "Link: </s.css>; rel=preload")
        + _head("200 OK", HTML, f"Content-Length: {len(OK_PAGE)}", "X-Final: yes")
        + OK_PAGE
    )
    server.serve_raw("/interim", raw)
    (result, after), _ = fetch_paths(server, ["/interim", "/ok"], ca=ca)
    assert result.ok and result.body == OK_PAGE and result.headers["x-final"] == "yes"
    assert "link" not in result.headers
    assert after.ok and server.connections == 1


def test_redirect_chain_records_the_final_url(server, ca, archive):
    server.serve_page("/r1", b"", 301, {"Location": "/r2"})
    server.serve_page("/r2", b"moved", 302, {"Location": server.url("/r3?x=1")})
    server.serve_page("/r3", OK_PAGE)
    (result,), stats = fetch_paths(server, ["/r1"], ca=ca, archive=archive)
    assert result.ok and result.body == OK_PAGE
    assert result.url == server.url("/r1") and result.final_url == server.url("/r3?x=1")
    assert stats["pages_by_status"] == {"301": 1, "302": 1, "200": 1}
    assert [server.hits(p) for p in ("/r1", "/r2", "/r3")] == [1, 1, 1]
    row = archive.db.execute("SELECT url, final_url, status FROM pages").fetchall()
    assert row == [(server.url("/r1"), server.url("/r3?x=1"), 200)]
    assert server.connections == 1


def test_idle_connection_closed_by_the_server_is_not_reused(server, ca):
    server.keepalive_timeout = 0.2
    # The pause lets the server's idle timeout close the kept-alive connection.
    (first, second), stats = fetch_paths(server, ["/ok", "/gbk"], ca=ca, pause=1.0)
    assert first.ok and second.ok and second.retries == 0
    assert server.hits("/gbk") == 1  # the dead connection was seen dead before sending
    assert server.connections == 2 and stats["requests"] == 2


def test_a_dropped_kept_alive_connection_is_left_to_the_fetchers_retry(server, ca):
    (first, second), stats = fetch_paths(server, ["/then-drop", "/ok"], ca=ca)
    assert first.ok and second.ok and second.body == OK_PAGE
    assert second.retries == 1 and stats["retries"] == 1
    assert server.hits("/ok") == 2


def test_large_headers_are_read_whole(server, ca):
    pads = [f"X-Pad-{n}: {'v' * 150}" for n in range(300)]  # ~50 KB of headers
    cookie = "Set-Cookie: lianjia_token=" + "t" * 8000 + "; Path=/"
    raw = _head("200 OK", HTML, f"Content-Length: {len(OK_PAGE)}", cookie, *pads) + OK_PAGE
    server.serve_raw("/big-head", raw)
    (result, after), _ = fetch_paths(server, ["/big-head", "/ok"], ca=ca)
    assert result.ok and result.body == OK_PAGE
    assert result.headers["x-pad-299"] == "v" * 150
    assert len(result.headers["set-cookie"]) == len("lianjia_token=; Path=/") + 8000
    assert after.ok and server.connections == 1


def test_headers_over_one_megabyte_are_a_clear_error(server, ca):
    pads = [f"X-Pad-{n}: {'v' * 1000}" for n in range(1100)]
    server.serve_raw("/huge-head", _head("200 OK", HTML, "Content-Length: 0", *pads))
    (result, after), _ = fetch_paths(server, ["/huge-head", "/ok"], ca=ca, max_retries=0)
    # h11 (under httpx) refuses a response head over 100 KiB.
    assert result.error.startswith("connection closed early or body cut short (RemoteProtocolError")
    assert after.ok


def test_folded_header_lines_are_joined(server, ca):
    raw = (
        _head(
            "200 OK",
            HTML,
            f"Content-Length: {len(OK_PAGE)}",
            "X-Folded: first",
            "  second",
            "\tthird",
            "X-After: plain",
        )
        + OK_PAGE
    )
    server.serve_raw("/folded", raw)
    (result,), _ = fetch_paths(server, ["/folded"], ca=ca)
    assert result.ok and result.body == OK_PAGE
    assert result.headers["x-folded"] == "first second third"
    assert result.headers["x-after"] == "plain"


# -- body size limit -------------------------------------------------------------------


def test_body_over_20_mb_is_refused_and_archived_as_an_error(server, ca, archive):
    server.serve_page("/huge", b"x" * (MB20 + 1))
    (result, after), stats = fetch_paths(server, ["/huge", "/ok"], ca=ca, archive=archive)
    assert result.status == 200 and result.body is None and not result.ok
    assert result.error == (
        "body over the 20 MiB cap (Content-Length 20,971,521 bytes): refused, not archived"
    )
    assert server.hits("/huge") == 1 and stats["retries"] == 0
    row = archive.db.execute("SELECT status, content_hash, error FROM pages").fetchone()
    assert row == (200, None, result.error)
    assert after.ok and after.body == OK_PAGE


def _chunked(body: bytes, size: int = 8192) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


@pytest.mark.parametrize(
    "raw, close",
    [
        (_head("200 OK", HTML, "Transfer-Encoding: chunked") + _chunked(b"y" * 150_000), False),
        (_head("200 OK", HTML) + b"z" * 150_000, True),
    ],
    ids=["chunked", "until-close"],
)
def test_body_without_content_length_is_cut_at_the_limit(server, ca, raw, close):
    server.serve_raw("/long", raw, close=close)
    (result, after), _ = fetch_paths(server, ["/long", "/ok"], ca=ca, max_body_size=100_000)
    assert result.error == "body over the 100,000-byte cap (no end in sight): refused, not archived"
    assert server.hits("/long") == 1
    assert after.ok


def test_gzip_bomb_is_cut_once_decoded_size_passes_the_limit(server, ca):
    bomb = gzip.compress(b"0" * 5_000_000)
    assert len(bomb) < 100_000
    server.serve_page("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    (result,), _ = fetch_paths(server, ["/bomb"], ca=ca, max_body_size=1_000_000)
    assert result.error == (
        "body over the 1,000,000-byte cap (gzip, more than 1,000,000 bytes decoded): "
        "refused, not archived"
    )
