"""The fetch layer against a real server on 127.0.0.1, archiving into a real SQLite file."""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from db import open_db
from db.pages import PageArchive
from scrapers.errors import FetchError
from scrapers.fetch import Fetcher, FetchSettings, RetryBudgetExhausted
from scrapers.fetch.blocks import block_reason, page_reason
from scrapers.fetch.decode import decode_body
from scrapers.fetch.retry import backoff_delay, parse_retry_after
from scrapers.fetch.robots import explain
from scrapers.fetch.throttle import Throttle
from scrapers.record import ListPage
from scrapers.source import Politeness, Source
from tests.mockserver import (
    GBK_TEXT,
    OK_PAGE,
    WRONG_CHARSET_TEXT,
    MockServer,
    Reply,
)
from tests.realpages import real_page

FAST = Politeness(delay=0, jitter=0, concurrency=4)


def settings(**overrides) -> FetchSettings:
    # The server is on loopback, as a --base-url on 127.0.0.1 allows.
    values = dict(
        politeness=FAST,
        timeout=3.0,
        backoff_base=0.01,
        backoff_max=2.0,
        max_retries=2,
        allow_private=True,
    )
    values.update(overrides)
    return FetchSettings(**values)


@pytest.fixture(scope="module")
def server():
    with MockServer() as running:
        yield running


@pytest.fixture
def mockserver(server):
    """The module's server with hits and served pages forgotten between tests."""
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def archive(tmp_path):
    db = open_db(tmp_path / "rentwatch.db")
    yield PageArchive(db)
    db.close()


def page_row(archive: PageArchive, page_id: int) -> dict:
    cursor = archive.db.execute("SELECT * FROM pages WHERE id = ?", [page_id])
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def run(coro):
    return asyncio.run(coro)


async def fetch_one(server: MockServer, archive, path: str, **kw):
    config = kw.pop("config", None) or settings()
    source = kw.pop("source", None)
    async with Fetcher(config, archive=archive, source_name="test", as_of="2024-05-01") as f:
        result = await f.fetch(server.url(path), source=source, **kw)
    return result, f.stats


# -- plain pages and decoding ----------------------------------------------------------


def test_ok_page_is_archived_before_it_is_returned(mockserver, archive):
    result, stats = run(fetch_one(mockserver, archive, "/ok"))
    assert result.ok and result.status == 200
    assert "整租·新天地" in result.text
    assert result.encoding == "utf-8"
    row = page_row(archive, result.page_id)
    assert row["url"] == mockserver.url("/ok")
    assert (row["status"], row["kind"], row["source"], row["as_of"]) == (
        200,
        "list",
        "test",
        "2024-05-01",
    )
    assert row["parse_status"] == "pending" and row["blocked"] == 0
    assert archive.page_body(result.page_id) == OK_PAGE
    assert stats["requests"] == 2  # robots.txt + the page
    assert stats["pages_by_status"] == {"200": 1}
    assert stats["robots_requests"] == 1
    assert stats["bytes"] == len(OK_PAGE) + len(b"User-agent: *\nDisallow: /private/\n")
    sent = mockserver.requests("/ok")[0].headers
    assert sent["User-Agent"] == FetchSettings().user_agent


def test_gbk_page_is_decoded_as_gb18030(mockserver, archive):
    result, _ = run(fetch_one(mockserver, archive, "/gbk"))
    assert GBK_TEXT in result.text
    assert result.encoding == "gb18030"
    assert page_row(archive, result.page_id)["encoding"] == "gb18030"


def test_page_declaring_the_wrong_charset_is_read_as_what_it_is(mockserver, archive):
    result, _ = run(fetch_one(mockserver, archive, "/wrongcharset"))
    assert WRONG_CHARSET_TEXT in result.text
    assert result.encoding == "utf-8"


def test_decode_body_rules():
    text = "整租 1室1厅"
    assert decode_body(b"\xef\xbb\xbf" + text.encode()) == (text, "utf-8")
    # utf-8 body declared as utf-8 but actually GBK bytes: GB18030 decodes it cleanly.
    assert decode_body(text.encode("gbk"), "text/html; charset=utf-8") == (text, "gb18030")
    # gb2312 declared, a character only GB18030 has: the superset reads it.
    assert decode_body("㐀".encode("gb18030"), "text/html; charset=gb2312")[0] == "㐀"
    assert decode_body(b"plain ascii", "text/html; charset=nonsense") == ("plain ascii", "utf-8")


# -- robots.txt ------------------------------------------------------------------------


def test_robots_disallowed_url_is_never_fetched(mockserver, archive):
    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            first = await f.fetch(mockserver.url("/private/flat1"))
            second = await f.fetch(mockserver.url("/private/flat2"))
            allowed = await f.fetch(mockserver.url("/ok"))
        return first, second, allowed, f.stats

    first, second, allowed, stats = run(go())
    assert first.disallowed == "User-agent: * / Disallow: /private/"
    assert first.error == (
        f"robots.txt of {mockserver.netloc} forbids /private/flat1 "
        "(User-agent: * / Disallow: /private/)"
    )
    assert first.status is None and not first.ok
    assert second.disallowed == "User-agent: * / Disallow: /private/"
    assert allowed.ok
    assert mockserver.hits("/private/flat1") == 0 and mockserver.hits("/private/flat2") == 0
    assert mockserver.hits("/robots.txt") == 1  # once per run per host
    assert stats["disallowed"] == 2
    row = page_row(archive, first.page_id)
    assert row["content_hash"] is None and "forbids /private/flat1" in row["error"]
    robots_rows = archive.db.execute("SELECT status FROM pages WHERE kind = 'robots'").fetchall()
    assert robots_rows == [(200,)]


@pytest.fixture(scope="module")
def other_server():
    """A second host (another port): its own robots.txt, its own throttle slot."""
    with MockServer() as running:
        yield running


@pytest.fixture
def other(other_server):
    other_server.reset()
    yield other_server
    other_server.reset()


def test_redirect_to_a_disallowed_path_is_not_followed(mockserver, archive):
    mockserver.serve_page("/moved", b"", 301, {"Location": "/private/flat9"})
    result, stats = run(fetch_one(mockserver, archive, "/moved"))
    target = mockserver.url("/private/flat9")
    assert result.disallowed == "User-agent: * / Disallow: /private/"
    assert result.final_url == target and result.status is None and not result.ok
    assert result.error == (
        f"robots.txt of {mockserver.netloc} forbids /private/flat9 "
        f"(User-agent: * / Disallow: /private/); it is where {mockserver.url('/moved')} redirected"
    )
    assert mockserver.hits("/moved") == 1 and mockserver.hits("/private/flat9") == 0
    assert stats["disallowed"] == 1 and stats["pages_by_status"] == {"301": 1}
    row = page_row(archive, result.page_id)
    assert (row["url"], row["final_url"], row["error"]) == (
        mockserver.url("/moved"),
        target,
        result.error,
    )


def test_redirect_to_another_host_obeys_that_hosts_robots(mockserver, other, archive):
    other.serve_page("/robots.txt", b"User-agent: *\nDisallow: /zufang/\n")
    mockserver.serve_page("/away", b"", 302, {"Location": other.url("/zufang/pg2/")})
    mockserver.serve_page("/away-ok", b"", 302, {"Location": other.url("/ok")})

    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            return await f.fetch(mockserver.url("/away")), await f.fetch(mockserver.url("/away-ok"))

    forbidden, allowed = run(go())
    assert forbidden.disallowed == "User-agent: * / Disallow: /zufang/"
    assert forbidden.error.startswith(f"robots.txt of {other.netloc} forbids /zufang/pg2/ (")
    assert forbidden.final_url == other.url("/zufang/pg2/")
    assert other.hits("/zufang/pg2/") == 0
    assert allowed.ok and allowed.final_url == other.url("/ok") and allowed.body == OK_PAGE
    assert other.hits("/robots.txt") == 1 and mockserver.hits("/robots.txt") == 1


def test_conditional_headers_are_not_sent_to_a_redirect_target(mockserver, archive):
    mockserver.serve_sequence(
        "/was-here",
        [Reply(200, OK_PAGE, {"ETag": '"v1"'}), Reply(301, b"", {"Location": "/now-here"})],
    )
    mockserver.serve_page("/now-here", OK_PAGE, headers={"ETag": '"v1"'})

    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            await f.fetch(mockserver.url("/was-here"))
            return await f.fetch(mockserver.url("/was-here"))

    result = run(go())
    assert mockserver.requests("/was-here")[1].headers["If-None-Match"] == '"v1"'
    assert "If-None-Match" not in mockserver.requests("/now-here")[0].headers
    assert result.status == 200 and not result.not_modified
    assert result.final_url == mockserver.url("/now-here")


def test_redirect_loop_ends_after_max_redirects(mockserver, archive):
    mockserver.serve_page("/loop", b"", 302, {"Location": "/loop"})
    result, stats = run(fetch_one(mockserver, archive, "/loop", config=settings(max_redirects=3)))
    assert result.error == "too many redirects (more than 3)" and result.status is None
    assert mockserver.hits("/loop") == 4 and stats["retries"] == 0


def test_robots_rule_for_our_user_agent_is_the_one_obeyed(mockserver, archive):
    mockserver.serve_page(
        "/robots.txt",
        b"User-agent: Googlebot\nAllow: /\n\nUser-agent: rentwatch\nDisallow: /\n",
        headers={"Content-Type": "text/plain"},
    )
    result, _ = run(fetch_one(mockserver, archive, "/ok"))
    assert result.disallowed == "User-agent: rentwatch / Disallow: /"
    assert mockserver.hits("/ok") == 0


def test_missing_robots_allows_everything(mockserver, archive):
    mockserver.serve_page("/robots.txt", b"not here", status=404)
    result, _ = run(fetch_one(mockserver, archive, "/private/flat1"))
    assert result.ok and mockserver.hits("/private/flat1") == 1


def test_robots_answering_5xx_disallows_the_whole_host(mockserver, archive, caplog):
    mockserver.serve_page("/robots.txt", b"oops", status=503)
    with caplog.at_level(logging.WARNING, logger="scrapers.fetch.robots"):
        result, stats = run(fetch_one(mockserver, archive, "/ok"))
    assert result.disallowed == "robots.txt answered HTTP 503: treated as Disallow: / for this run"
    assert mockserver.hits("/ok") == 0
    assert "treated as Disallow: /" in caplog.text
    assert stats["disallowed"] == 1


def test_unreachable_robots_disallows_the_whole_host(archive):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nobody listens there

    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            return await f.fetch(f"http://127.0.0.1:{port}/zufang/")

    result = run(go())
    assert result.disallowed.startswith("robots.txt unreachable (connection failed")
    assert result.disallowed.endswith("treated as Disallow: / for this run")


def test_robots_off_fetches_disallowed_paths(mockserver, archive):
    result, stats = run(
        fetch_one(mockserver, archive, "/private/x", config=settings(obey_robots=False))
    )
    assert result.ok and mockserver.hits("/robots.txt") == 0 and stats["requests"] == 1


def test_explain_names_the_longest_matching_rule():
    text = "User-agent: *\nDisallow: /\nAllow: /zufang/\nDisallow: /zufang/pg*/\n"
    assert explain(text, "https://hz.lianjia.com/ershoufang/", "rentwatch/0.1") == (
        "User-agent: * / Disallow: /"
    )
    assert explain(text, "https://hz.lianjia.com/zufang/pg2/", "rentwatch/0.1") == (
        "User-agent: * / Disallow: /zufang/pg*/"
    )
    assert explain(text, "https://hz.lianjia.com/zufang/", "rentwatch/0.1") is None


# -- retries ---------------------------------------------------------------------------


def test_429_retry_after_is_honoured(mockserver, archive):
    result, stats = run(fetch_one(mockserver, archive, "/429"))
    assert result.ok and result.retries == 1
    first, second = mockserver.requests("/429")
    assert second.at - first.at >= 0.9  # Retry-After: 1
    assert stats["pages_by_status"] == {"429": 1, "200": 1}
    assert stats["retries"] == 1
    rows = archive.db.execute("SELECT status FROM pages WHERE url LIKE '%/429'").fetchall()
    assert rows == [(200,)]  # one row per fetch: its final answer


def test_429_pauses_the_whole_host(mockserver, archive):
    mockserver.serve_sequence(
        "/busy", [Reply(429, b"slow down", {"Retry-After": "1"}), Reply(200, OK_PAGE)]
    )

    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            await f.fetch(mockserver.url("/ok"))  # robots.txt out of the way
            busy = asyncio.create_task(f.fetch(mockserver.url("/busy")))
            await asyncio.sleep(0.2)
            other = await f.fetch(mockserver.url("/gbk"))
            return await busy, other

    busy, other = run(go())
    assert busy.ok and other.ok
    assert mockserver.requests("/gbk")[0].at - mockserver.requests("/busy")[0].at >= 0.9


def test_503_then_200_is_retried(mockserver, archive):
    result, stats = run(fetch_one(mockserver, archive, "/503-then-200"))
    assert result.ok and result.retries == 1 and mockserver.hits("/503-then-200") == 2
    assert stats["pages_by_status"] == {"503": 1, "200": 1}


def test_timeout_is_retried_then_reported(mockserver, archive):
    mockserver.slow_seconds = 2.5
    config = settings(max_retries=1, timeout=1.0)
    result, stats = run(fetch_one(mockserver, archive, "/slow", config=config))
    assert result.status is None and result.body is None
    assert result.error.startswith("timeout (ReadTimeout") and result.error.endswith(
        "after 1 retries"
    )
    assert mockserver.hits("/slow") == 2
    assert stats["errors"] == 1 and stats["retries"] == 1
    row = page_row(archive, result.page_id)
    assert row["status"] is None and row["content_hash"] is None and row["error"] == result.error
    assert row["parse_status"] == "skipped"


@pytest.mark.parametrize("path", ["/reset", "/truncated"])
def test_dropped_connection_and_cut_body_are_retried(mockserver, archive, path):
    result, stats = run(fetch_one(mockserver, archive, path))
    assert result.status is None
    assert result.error.startswith("connection closed early or body cut short (RemoteProtocolError")
    # first try + max_retries 2
    assert mockserver.hits(path) == 3
    assert stats["retries"] == 2 and stats["errors"] == 1


def test_404_is_not_retried(mockserver, archive):
    result, stats = run(fetch_one(mockserver, archive, "/nothing-here"))
    assert result.status == 404 and result.error == "HTTP 404 Not Found" and not result.ok
    assert mockserver.hits("/nothing-here") == 1 and stats["errors"] == 1
    assert archive.page_body(result.page_id) == b"not found"


def test_retry_budget_ends_the_run_when_a_site_is_down(mockserver, archive):
    config = settings(retry_budget=3, max_retries=2)

    async def go():
        async with Fetcher(config, archive=archive) as f:
            first = await f.fetch(mockserver.url("/dead-for-retry-budget"))
            with pytest.raises(RetryBudgetExhausted) as info:
                await f.fetch(mockserver.url("/dead-for-retry-budget?page=2"))
            return first, info.value, f.stats

    first, exc, stats = run(go())
    assert first.error == "HTTP 503 Service Unavailable after 2 retries"
    assert isinstance(exc, FetchError)
    assert str(exc) == (
        f"retry budget of 3 exhausted: {mockserver.netloc} looks down (last error HTTP 503 "
        f"Service Unavailable on {mockserver.url('/dead-for-retry-budget?page=2')})"
    )
    assert mockserver.hits("/dead-for-retry-budget") == 3 + 2  # 3 retries spent, then 1 + 1
    assert stats["retries"] == 3 and stats["errors"] == 2
    statuses = archive.db.execute(
        "SELECT status, error IS NOT NULL FROM pages WHERE kind = 'list'"
    ).fetchall()
    assert statuses == [(503, 1), (503, 1)]  # the failure that ended the run is archived too


def test_retry_after_and_backoff_values():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("soon", now) is None
    assert backoff_delay(0, base=1, cap=60, retry_after=120.0) == 60  # capped by backoff_max
    rng = random.Random(1)
    waits = [backoff_delay(3, base=1, cap=60, rng=rng) for _ in range(200)]
    assert 0 <= min(waits) < 1 and 7 < max(waits) <= 8  # full jitter over 0 .. 2**3


# -- blocks ----------------------------------------------------------------------------


def test_captcha_page_is_blocked_and_archived(mockserver, archive):
    result, stats = run(fetch_one(mockserver, archive, "/captcha"))
    assert result.blocked == "captcha or verification page (title '访问验证-安居客')"
    assert not result.ok and result.status == 200
    row = page_row(archive, result.page_id)
    assert (row["blocked"], row["block_reason"], row["parse_status"]) == (
        1,
        result.blocked,
        "skipped",
    )
    assert archive.page_body(result.page_id) == result.body
    assert stats["blocked"] == 1


def test_login_redirect_is_blocked_and_final_url_recorded(mockserver, archive):
    result, _ = run(fetch_one(mockserver, archive, "/login-redirect"))
    assert result.final_url == mockserver.url("/passport/login?from=zufang")
    assert result.blocked == f"redirected to a passport page: {result.final_url}"
    assert page_row(archive, result.page_id)["final_url"] == result.final_url
    # The redirect is the block: the login page itself is not asked for.
    assert result.status == 302 and mockserver.hits("/passport/login") == 0


def test_418_is_blocked_not_retried(mockserver, archive):
    result, stats = run(fetch_one(mockserver, archive, "/418"))
    assert result.blocked == "HTTP 418 I'm a teapot: the site refused the request"
    assert mockserver.hits("/418") == 1 and stats["retries"] == 0


class MarkerSource(Source):
    name = "marker"

    def base_url(self, city: str) -> str:
        return "http://127.0.0.1"

    def list_urls(self, city, *, district=None, building=None, base_url=None):
        return []

    def parse_list(self, body: bytes, url: str) -> ListPage:
        raise NotImplementedError

    def block_reason(self, body: bytes, url: str, status: int) -> str | None:
        return "site says: 系统检测到异常访问" if "异常访问".encode() in body else None


def test_source_block_reason_is_consulted(mockserver, archive):
    mockserver.serve_page("/weird", "<p>系统检测到异常访问</p>".encode())
    config = settings(per_host={mockserver.netloc: FAST})  # the source's own delay is 3 s
    result, _ = run(fetch_one(mockserver, archive, "/weird", source=MarkerSource(), config=config))
    assert result.blocked == "site says: 系统检测到异常访问"
    assert page_row(archive, result.page_id)["source"] == "test"


def test_real_pages_captcha_blocked_listing_not():
    captcha = real_page("anjuke/anjuke_captcha_verify_2024-10.html")
    text = decode_body(captcha)[0]
    assert page_reason(text).startswith("captcha or verification page (title '访问验证-安居客")
    for page in (
        "lianjia/beike_zufang_list_sz_2020-03.html",
        "lianjia/beike_zufang_detail_hz_2019-09_localized.html",
        "58/58_chuzu_list_sz_2020-03_fontsecret.html",
        "ziroom/ziroom_detail_sh_2016-11_1.html",
    ):
        body = real_page(page)
        reason = block_reason(
            url="https://x/",
            final_url="https://x/",
            status=200,
            body=body,
            text=decode_body(body)[0],
        )
        assert reason is None, page


# -- conditional requests --------------------------------------------------------------


def test_etag_304_reuses_the_archived_body(mockserver, archive):
    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            first = await f.fetch(mockserver.url("/etag"))
            second = await f.fetch(mockserver.url("/etag"))
        return first, second, f.stats

    first, second, stats = run(go())
    assert first.status == 200 and not first.not_modified
    assert mockserver.requests("/etag")[1].headers["If-None-Match"] == '"v1"'
    assert second.status == 304 and second.not_modified and second.ok
    assert second.body == OK_PAGE and "整租" in second.text
    one, two = page_row(archive, first.page_id), page_row(archive, second.page_id)
    assert two["status"] == 304 and two["content_hash"] == one["content_hash"]
    assert two["parse_status"] == "pending"
    assert stats["not_modified"] == 1
    assert archive.db.execute("SELECT count(*) FROM page_bodies").fetchone()[0] == 2  # page, robots


# -- politeness ------------------------------------------------------------------------


@pytest.mark.parametrize("jitter", [0.0, 0.5])
def test_delay_spaces_request_starts_to_one_host(mockserver, archive, jitter):
    config = settings(politeness=Politeness(delay=0.2, jitter=jitter, concurrency=1))
    for n in range(5):
        mockserver.serve_page(f"/p/{n}", OK_PAGE)

    async def go():
        async with Fetcher(config, archive=archive) as f:
            return await asyncio.gather(*(f.fetch(mockserver.url(f"/p/{n}")) for n in range(5)))

    results = run(go())
    assert all(r.ok for r in results)
    starts = sorted(
        [mockserver.requests("/robots.txt")[0].at]
        + [mockserver.requests(f"/p/{n}")[0].at for n in range(5)]
    )
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(gaps) == 5
    assert min(gaps) >= 0.18, gaps


def test_concurrency_per_host_is_never_exceeded(mockserver, archive):
    config = settings(politeness=Politeness(delay=0, jitter=0, concurrency=3))

    async def go():
        async with Fetcher(config, archive=archive) as f:
            urls = [mockserver.url(f"/hold?s=0.3&n={n}") for n in range(9)]
            return await asyncio.gather(*(f.fetch(u) for u in urls))

    results = run(go())
    assert all(r.ok for r in results)
    assert mockserver.max_in_flight == 3
    assert mockserver.hits("/hold") == 9


def test_per_host_politeness_overrides_source_and_default(mockserver, archive):
    config = settings(per_host={mockserver.netloc: Politeness(delay=0, jitter=0, concurrency=2)})

    async def go():
        async with Fetcher(config, archive=archive) as f:
            urls = [mockserver.url(f"/hold?s=0.3&n={n}") for n in range(4)]
            await asyncio.gather(*(f.fetch(u, source=MarkerSource()) for u in urls))

    run(go())  # MarkerSource's own politeness (3 s delay) would take 9 s here
    assert mockserver.max_in_flight == 2


def test_autothrottle_moves_delay_towards_latency_never_below_minimum():
    throttle = Throttle(settings(politeness=Politeness(delay=1.0, jitter=0, concurrency=1)))
    slot = throttle.slot("http://a.example/x")
    throttle.record(slot, 4.0, 200)
    assert slot.delay == 4.0  # rises at once to latency / target concurrency
    throttle.record(slot, 0.1, 200)
    assert slot.delay == 2.05  # falls half-way
    throttle.record(slot, 0.1, 500)
    assert slot.delay == 2.05  # an error answer never lowers it
    for _ in range(20):
        throttle.record(slot, 0.01, 200)
    assert slot.delay == 1.0  # floor: the configured delay

    off = Throttle(settings())
    fast = off.slot("http://b.example/x")
    off.record(fast, 3.0, 200)
    assert fast.delay == 0  # delay 0: politeness off, no adaptation


# -- the client ------------------------------------------------------------------------


def test_passed_in_client_is_used_and_left_open(mockserver, archive):
    async def go():
        async with httpx.AsyncClient() as client:
            async with Fetcher(settings(), archive=archive, client=client) as f:
                result = await f.fetch(mockserver.url("/ok"), as_of="2024-06-01", kind="detail")
            assert not client.is_closed
            return result

    result = run(go())
    row = page_row(archive, result.page_id)
    assert (row["kind"], row["as_of"]) == ("detail", "2024-06-01")
    assert mockserver.requests("/ok")[0].headers["User-Agent"] == FetchSettings().user_agent


@pytest.mark.parametrize("path", ["/chunked", "/gzip"])
def test_chunked_and_gzip_bodies_arrive_whole(mockserver, archive, path):
    result, stats = run(fetch_one(mockserver, archive, path))
    assert result.ok and result.body == OK_PAGE
    assert archive.page_body(result.page_id) == OK_PAGE  # archived decoded, as parsed


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/ok", "200"),
        ("/chunked", "200"),
        ("/login-redirect", "passport"),
        ("/truncated", "connection closed early or body cut short (RemoteProtocolError"),
        ("/reset", "connection closed early or body cut short (RemoteProtocolError"),
    ],
)
def test_httpx_own_transport_behaves_the_same(mockserver, archive, path, expected):
    """The default LeanTransport and httpx's pool give the same results for the same paths."""

    async def go():
        transport = httpx.AsyncHTTPTransport()
        async with Fetcher(settings(max_retries=0), archive=archive, transport=transport) as f:
            return await f.fetch(mockserver.url(path))

    result = run(go())
    said = str(result.status) if result.ok else (result.blocked or result.error)
    assert expected in said
    if result.ok:
        assert result.body == OK_PAGE


def test_slow_connect_and_refused_connection_are_connect_errors(archive):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def go():
        async with Fetcher(settings(obey_robots=False, max_retries=1), archive=archive) as f:
            return await f.fetch(f"http://127.0.0.1:{port}/zufang/"), f.stats

    result, stats = run(go())
    assert result.error.startswith("connection failed (ConnectError")
    assert result.error.endswith("after 1 retries") and stats["requests"] == 2


def test_not_an_http_url_is_refused_not_raised(archive):
    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            return await f.fetch("ftp://example.com/file"), f.stats

    result, stats = run(go())
    assert result.refused == "refused ftp://example.com/file: ftp is not http or https"
    assert result.error == result.refused and not result.ok and stats["refused"] == 1
    assert stats["requests"] == 0


def test_stats_are_a_snapshot(mockserver, archive):
    async def go():
        async with Fetcher(settings(), archive=archive) as f:
            await f.fetch(mockserver.url("/ok"))
            before = f.stats
            await f.fetch(mockserver.url("/gbk"))
            return before, f.stats

    before, after = run(go())
    assert before["pages_by_status"] == {"200": 1} and before["requests"] == 2
    assert after["pages_by_status"] == {"200": 2} and after["requests"] == 3


def test_one_info_line_per_request(mockserver, archive, caplog):
    with caplog.at_level(logging.INFO, logger="scrapers.fetch.client"):
        run(fetch_one(mockserver, archive, "/503-then-200"))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("GET ")]
    assert lines[0].startswith(f"GET {mockserver.url('/robots.txt')} -> 200")
    assert lines[1].startswith(f"GET {mockserver.url('/503-then-200')} -> 503")
    assert lines[2].startswith(f"GET {mockserver.url('/503-then-200')} -> 200")
    assert len(lines) == 3
