"""Value objects of the fetch layer: its settings and what one fetch returns."""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field

from scrapers.fetch.body import MAX_BODY_SIZE, MAX_ROBOTS_SIZE
from scrapers.source import Politeness

DEFAULT_USER_AGENT = "rentwatch/0.1 (+https://github.com/rentwatch/rentwatch; vacancy research)"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    user_agent: str = DEFAULT_USER_AGENT
    #: Seconds for connect / read of one request.
    timeout: float = 20.0
    obey_robots: bool = True
    #: Attempts per URL after the first, on timeouts, connection errors, 5xx and 429.
    max_retries: int = 3
    #: Retries allowed in one run over all URLs; past it the run stops with a clear message.
    retry_budget: int = 30
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    #: Adapt the delay to the server's latency (Scrapy AutoThrottle-like).
    autothrottle: bool = True
    #: AutoThrottle aims at this many requests in flight per host: delay -> latency / target.
    autothrottle_target: float = 1.0
    #: AutoThrottle never raises a host's delay beyond this many seconds.
    autothrottle_max_delay: float = 60.0
    #: Politeness for hosts without an override.
    politeness: Politeness = field(default_factory=Politeness)
    #: host -> politeness, e.g. from a source's defaults or a config file.
    per_host: dict[str, Politeness] = field(default_factory=dict)
    #: Send If-None-Match / If-Modified-Since from the archive's last good fetch of the URL.
    conditional: bool = True
    #: TLS certificate checks, as httpx's ``verify``: True (system store + certifi), a CA
    #: bundle path, an ``ssl.SSLContext``, or False (no checks; never for real sites).
    #: Applies to the transport the Fetcher builds; a passed ``transport``/``client`` keeps its own.
    verify: bool | str | os.PathLike[str] | ssl.SSLContext = True
    #: Bytes of body (after gzip/deflate decoding) read at most; a larger answer is
    #: refused with the reason, recorded without a body and not retried.
    max_body_size: int = MAX_BODY_SIZE
    #: Bytes of robots.txt (decoded) parsed at most; the rest is ignored (RFC 9309 2.5).
    max_robots_size: int = MAX_ROBOTS_SIZE
    #: Redirects followed per fetch; each hop is checked against the site and robots.txt.
    max_redirects: int = 10
    #: Seconds one request may take from sending to its body's last byte (a trickled
    #: body keeps every single read under ``timeout``; this bounds the whole).
    total_timeout: float = 60.0
    #: Requests one run may send in all (pages, retries, redirect hops, robots.txt).
    max_requests: int = 5000
    #: A robots.txt ``Crawl-delay`` is honoured as a minimum up to this many seconds;
    #: a longer one stops the scrape as disallowed rather than running for days.
    max_crawl_delay: float = 60.0
    #: Hosts the run may request (names with any default port, or ``host:port``); None:
    #: any host. The crawl sets it from the source's hosts or the ``--base-url``.
    allowed_hosts: frozenset[str] | None = None
    #: Allow loopback, private and link-local addresses (the base URL is on one).
    allow_private: bool = False
    #: Proxy URL for every request (``http://``, ``https://``, ``socks5://``); None: the
    #: ``HTTP_PROXY`` / ``HTTPS_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY`` environment.
    proxy: str | None = None


@dataclass(slots=True)
class FetchResult:
    url: str
    final_url: str
    status: int | None  # None when no response arrived
    body: bytes | None
    text: str | None = None  # decoded body
    encoding: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0
    retries: int = 0
    #: Why the page is a block page (captcha, login redirect, 403/418), else None.
    blocked: str | None = None
    #: robots.txt forbids this URL: it was not fetched. Holds the rule, e.g. "Disallow: /".
    disallowed: str | None = None
    not_modified: bool = False
    #: A transport error or a non-retryable HTTP error, in words.
    error: str | None = None
    #: Why the URL (or a redirect from it) was not requested: off the site, not http(s),
    #: a private address. Also in ``error``.
    refused: str | None = None
    #: The host (or its robots.txt) gave no answer at all: DNS, connect, TLS, timeout.
    #: In words; also in ``error``.
    unreachable: str | None = None
    #: id of the row in ``pages`` the fetch layer archived this response as.
    page_id: int | None = None

    @property
    def ok(self) -> bool:
        """Content to parse: a 200, or a 304 answered with the archived body."""
        return (
            (self.status == 200 or self.not_modified)
            and self.blocked is None
            and self.error is None
            and self.body is not None
        )
