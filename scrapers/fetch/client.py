"""The Fetcher: one httpx client, and every request through robots, throttle, retry, archive.

    async with Fetcher(settings, archive=PageArchive(db), run_id=7, source_name="lianjia",
                       as_of="2024-05-01") as fetcher:
        result = await fetcher.fetch("https://hz.lianjia.com/zufang/", source=source)

Each call: site check (guard.py) -> robots.txt check and Crawl-delay -> conditional
headers from the archive -> per-host slot (throttle) -> GET, following redirects hop by
hop -> body read within its cap (body.py) -> retry with backoff on transient failures ->
decode -> block detection -> archive -> :class:`FetchResult`. The archive write happens
before the result is returned, so nothing is parsed that was not stored first.

Below the Fetcher is httpx's own transport (its pool, ``Limits`` and ``Timeout``, and
its proxy support: ``FetchSettings.proxy`` or the ``HTTP(S)_PROXY`` environment).

Redirects are followed here, not inside httpx, so that every hop is a request like any
other (as Scrapy's RedirectMiddleware makes them): its target must be on the site
(``result.refused`` says why not), it waits for its host's slot, and it is checked
against that host's robots.txt first. A target robots.txt forbids is not fetched
(``result.disallowed`` holds the rule); a target that is a login or captcha URL is not
fetched either: the redirect itself is the block (``result.blocked``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
import time
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from scrapers.errors import RequestBudgetExhausted
from scrapers.fetch.archive import PageStore
from scrapers.fetch.blocks import block_reason, redirect_reason
from scrapers.fetch.body import ACCEPT_ENCODING, BodyRefused, read_bounded
from scrapers.fetch.decode import decode_body
from scrapers.fetch.guard import SiteGuard
from scrapers.fetch.retry import (
    PAUSE_STATUSES,
    RETRY_STATUSES,
    RetryBudget,
    RetryBudgetExhausted,
    backoff_delay,
    describe_error,
    is_retryable_error,
    parse_retry_after,
)
from scrapers.fetch.robots import RobotsAnswer, RobotsCache
from scrapers.fetch.throttle import HostSlot, Throttle
from scrapers.fetch.types import FetchResult, FetchSettings
from scrapers.source import Source

log = logging.getLogger(__name__)

_UNSET: Any = object()
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: robots.txt redirects followed at most (RFC 9309 2.3.1.2: at least five).
_ROBOTS_REDIRECTS = 5


def check_ca_path(verify: str | os.PathLike[str]) -> str:
    """``verify`` as a path to a CA bundle file or directory, or a ValueError saying why not."""
    path = os.fspath(verify)
    if not (os.path.isfile(path) or os.path.isdir(path)):
        raise ValueError(f"verify={path!r}: no CA bundle file or directory at that path")
    return path


def tls_verify(verify: bool | str | os.PathLike[str] | ssl.SSLContext) -> bool | ssl.SSLContext:
    """httpx's ``verify`` from ours: a CA bundle path becomes a context trusting it alone."""
    if isinstance(verify, bool | ssl.SSLContext):
        return verify
    path = check_ca_path(verify)
    if os.path.isdir(path):
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


_LOCATION = "rentwatch.location"


async def _hold_location(response: httpx.Response) -> None:
    """Take ``Location`` out of the headers before httpx reads it (a response hook).

    httpx builds the redirect request for every 3xx even when it does not follow it, and
    a ``Location`` such as ``javascript:`` raises ``InvalidURL`` there, outside its
    ``HTTPError`` tree. The Fetcher follows redirects itself, with the value kept here.
    """
    location = response.headers.get("Location")
    if location is not None:
        del response.headers["Location"]
        response.extensions[_LOCATION] = location


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds:,.0f} s, {seconds / 86400:.1f} days"
    if seconds >= 3600:
        return f"{seconds:,.0f} s, {seconds / 3600:.1f} hours"
    return f"{seconds:,.0f} s"


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _cause(exc: BaseException, kind: type[BaseException]) -> Any:
    """The first exception of ``kind`` in ``exc``'s chain of causes, or None."""
    seen: BaseException | None = exc
    for _ in range(10):  # httpx -> httpcore -> ssl: a short chain; never loop on a cycle
        if seen is None or isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def explain_error(exc: httpx.HTTPError) -> tuple[str, bool]:
    """A failed request in words, and whether trying again could go better."""
    try:
        where = exc.request.url.netloc.decode("ascii")
    except (RuntimeError, AttributeError):
        where = "the server"
    cert = _cause(exc, ssl.SSLCertVerificationError)
    if cert is not None:
        # The same certificate comes back on every try: retrying only spends the budget.
        reason = cert.verify_message or cert.reason or str(cert)
        return f"TLS certificate of {where} rejected ({reason}): not retried", False
    tls = _cause(exc, ssl.SSLError)
    if tls is not None and isinstance(exc, httpx.ConnectError):
        return f"TLS handshake with {where} failed ({tls.reason or tls})", is_retryable_error(exc)
    return describe_error(exc), is_retryable_error(exc)


@dataclass(slots=True)
class _Answer:
    """How one attempt ended: the last hop's response, or why there is none."""

    response: httpx.Response | None
    body: bytes | None
    #: (error in words, retryable) when no response came.
    error: tuple[str, bool] | None
    #: The slot of the host that gave the last answer (Retry-After pauses that host).
    slot: HostSlot
    final_url: str
    #: The robots.txt rule forbidding the redirect target ``final_url`` (not fetched).
    forbidden: str | None = None
    #: Why ``final_url`` (the URL or a redirect target) was not requested at all.
    refused: str | None = None


def new_stats() -> dict[str, Any]:
    return {
        "requests": 0,
        "bytes": 0,
        "retries": 0,
        "pages_by_status": {},
        "blocked": 0,
        "disallowed": 0,
        "errors": 0,
        "not_modified": 0,
        "robots_requests": 0,
        "refused": 0,
    }


class Fetcher:
    """Polite, fault-tolerant fetching on ONE ``httpx.AsyncClient``.

    ``client``: an existing client to use (the Fetcher does not close it);
    ``transport``: a transport for the client the Fetcher builds (tests); by default
    httpx builds its own, with ``settings.verify``, ``settings.proxy`` or the proxy
    environment, and the limits below.
    ``archive``: where every response is stored; None stores nothing (page_id stays None).
    ``run_id``, ``source_name``, ``as_of``: written on each archived page row; each may
    also be given per :meth:`fetch` call.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        archive: PageStore | None = None,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        run_id: int | None = None,
        source_name: str | None = None,
        as_of: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        self.archive = archive
        self.run_id = run_id
        self.source_name = source_name
        self.as_of = as_of
        self.rng = rng or random.Random()
        self._client = client
        self._owns_client = client is None
        self._transport = transport
        self.throttle = Throttle(self.settings, rng=self.rng)
        self.budget = RetryBudget(self.settings.retry_budget)
        self.robots = RobotsCache(self.settings.user_agent, self._fetch_robots)
        self.guard = SiteGuard(
            self.settings.allowed_hosts, allow_private=self.settings.allow_private
        )
        self._stats: dict[str, Any] = new_stats()

    # -- lifecycle ------------------------------------------------------------------
    async def __aenter__(self) -> Fetcher:
        if self._client is None:
            verify = tls_verify(self.settings.verify)
            self._client = httpx.AsyncClient(
                transport=self._transport,
                verify=verify,
                proxy=self.settings.proxy,
                # Without a transport of ours httpx reads HTTP(S)_PROXY, ALL_PROXY, NO_PROXY.
                trust_env=True,
                # Per-host concurrency is the throttle's; these bound the pool as a whole.
                limits=httpx.Limits(
                    max_connections=64, max_keepalive_connections=16, keepalive_expiry=30.0
                ),
                timeout=httpx.Timeout(self.settings.timeout),
                follow_redirects=False,
                headers={
                    "User-Agent": self.settings.user_agent,
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
            )
        if _hold_location not in self._client.event_hooks["response"]:
            self._client.event_hooks["response"].append(_hold_location)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def stats(self) -> dict[str, Any]:
        """A snapshot of the counters (Scrapy stats style); later requests do not change it."""
        return {**self._stats, "pages_by_status": dict(self._stats["pages_by_status"])}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("Fetcher is not open: use `async with Fetcher(...) as fetcher`")
        return self._client

    # -- the one public call ----------------------------------------------------------
    async def fetch(
        self,
        url: str,
        *,
        kind: str = "list",
        source: Source | None = None,
        run_id: int | None = _UNSET,
        source_name: str | None = _UNSET,
        as_of: str | None = _UNSET,
    ) -> FetchResult:
        """Fetch ``url`` politely, archive what came back, and say what it was.

        Never raises for a bad page, a failed request or a URL off the site (see
        ``FetchResult.error``, ``.blocked``, ``.disallowed``, ``.refused``); raises
        :class:`RetryBudgetExhausted` or :class:`RequestBudgetExhausted` when the run's
        budget is spent.
        """
        context = {
            "run_id": self.run_id if run_id is _UNSET else run_id,
            "source": (
                (self.source_name or (source.name if source else None))
                if source_name is _UNSET
                else source_name
            ),
            "as_of": self.as_of if as_of is _UNSET else as_of,
            "kind": kind,
        }
        refusal = self.guard.refusal(url)
        if refusal:
            return self._refused(url, url, refusal)
        host = urlsplit(url).netloc
        # The host's slot is made first so that robots.txt is fetched with the source's politeness.
        slot = self.throttle.slot(url, source)

        if self.settings.obey_robots:
            rule = await self.robots.rule_for(url)
            if rule is not None:
                return self._disallowed(url, url, rule, context)
            crawl_delay = (await self.robots.host(url)).crawl_delay
            if crawl_delay:
                if crawl_delay > self.settings.max_crawl_delay:
                    rule = (
                        f"Crawl-delay: {crawl_delay:g}, more than the "
                        f"{self.settings.max_crawl_delay:g} s a run waits between requests"
                    )
                    return self._disallowed(url, url, rule, context)
                self.throttle.require_delay(slot, crawl_delay)

        etag = last_modified = stored_hash = None
        headers = {"User-Agent": self.settings.user_agent}
        if self.settings.conditional and self.archive is not None:
            etag, last_modified, stored_hash = self.archive.validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified

        retries = 0
        wait_note: str | None = None
        started = time.monotonic()
        while True:
            answer = await self._attempt(slot, url, headers, source)
            if answer.refused is not None:
                return self._refused(url, answer.final_url, answer.refused)
            if answer.forbidden is not None:
                return self._disallowed(url, answer.final_url, answer.forbidden, context)
            response, body, error = answer.response, answer.body, answer.error
            status = response.status_code if response is not None else None
            retry_after: float | None = None
            if error is not None:
                retryable = error[1]
                message = error[0]
            else:
                assert response is not None
                retryable = status in RETRY_STATUSES
                message = f"HTTP {status} {_phrase(status or 0)}".strip()
                if retryable:
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    if retry_after is not None and retry_after > self.settings.backoff_max:
                        # Waiting a day inside a run helps no one; say what the site asked.
                        wait_note = (
                            f"the site asked to wait {_duration(retry_after)} (Retry-After), "
                            f"longer than the {self.settings.backoff_max:g} s a run waits; "
                            "not retried"
                        )
                        message += f": {wait_note}"
                        retryable = False
                    elif retry_after is not None and status in PAUSE_STATUSES:
                        self.throttle.pause(answer.slot, retry_after)
            if not retryable or retries >= self.settings.max_retries:
                break
            try:
                self.budget.spend(host=host, last_error=message, url=url)
            except RetryBudgetExhausted as exc:
                exc.unreachable = response is None  # no answer at all, not a 5xx
                self._stats["errors"] += 1
                self._store(url, response, body, context, error=message, final_url=answer.final_url)
                log.error("giving up on %s: retry budget of %d spent", host, self.budget.total)
                raise
            wait = backoff_delay(
                retries,
                base=self.settings.backoff_base,
                cap=self.settings.backoff_max,
                retry_after=retry_after,
                rng=self.rng,
            )
            retries += 1
            self._stats["retries"] += 1
            log.info("retry %d of %s in %.2fs after %s", retries, url, wait, message)
            if wait > 0:
                await asyncio.sleep(wait)

        elapsed = time.monotonic() - started
        if body is None:
            # No answer at all (timeouts, refused or reset connections, cut-short bodies),
            # or a body refused by its cap: recorded with the reason, never with the body.
            assert error is not None
            words = error[0] + (f" after {retries} retries" if retries else "")
            self._stats["errors"] += 1
            result = FetchResult(
                url, answer.final_url, status, None, elapsed=elapsed, retries=retries, error=words
            )
            if response is None:  # DNS, connect, TLS, timeout: nothing answered
                host_name = urlsplit(answer.final_url).netloc
                result.unreachable = f"{host_name} unreachable: {words}"
            result.page_id = self._store(
                url, response, None, context, error=words, final_url=answer.final_url
            )
            return result

        assert response is not None
        if status == 304 and stored_hash is not None and self.archive is not None:
            return self._not_modified(url, response, stored_hash, etag, context, elapsed, retries)

        text, encoding = decode_body(body, response.headers.get("Content-Type"))
        result = FetchResult(
            url=url,
            final_url=answer.final_url,
            status=status,
            body=body,
            text=text,
            encoding=encoding,
            headers=dict(response.headers),
            elapsed=elapsed,
            retries=retries,
        )
        result.blocked = block_reason(
            url=url, final_url=result.final_url, status=status, body=body, text=text, source=source
        )
        if result.blocked and wait_note:
            result.blocked += f"; {wait_note}"
        if result.blocked:
            self._stats["blocked"] += 1
            log.info("blocked: %s: %s", url, result.blocked)
        elif status is not None and not 200 <= status < 300:
            result.error = message + (f" after {retries} retries" if retries else "")
            self._stats["errors"] += 1
        result.page_id = self._store(
            url,
            response,
            body,
            context,
            encoding=encoding,
            blocked=result.blocked,
            error=result.error,
            final_url=result.final_url,
        )
        return result

    # -- steps ------------------------------------------------------------------------
    async def _attempt(
        self,
        slot: HostSlot,
        url: str,
        headers: dict[str, str],
        source: Source | None,
        *,
        robots: bool = False,
    ) -> _Answer:
        """One GET and the redirects it leads to, each hop checked and in its host's slot.

        ``robots``: this is robots.txt: read within its own cap (the rest ignored), at
        most five redirects, no robots.txt check or block detection on the hops.
        """
        limit = self.settings.max_robots_size if robots else self.settings.max_body_size
        hops = min(_ROBOTS_REDIRECTS, self.settings.max_redirects) if robots else None
        max_hops = self.settings.max_redirects if hops is None else hops
        target = url
        for _hop in range(max_hops + 1):
            refusal = self.guard.refusal(target) or await self.guard.address_refusal(target)
            if refusal:
                return _Answer(None, None, None, slot, target, refused=refusal)
            response, body, error = await self._send(slot, target, headers, limit, robots)
            if response is None or body is None:
                return _Answer(response, None, error, slot, target)
            location = response.extensions.get(_LOCATION)
            if response.status_code not in _REDIRECTS or not location:
                return _Answer(response, body, None, slot, target)
            following = urljoin(target, location.strip())
            if not robots and redirect_reason(url, following):
                # A login or captcha page: the redirect is the block; the page is not needed.
                return _Answer(response, body, None, slot, following)
            refusal = self.guard.refusal(following)
            if refusal:
                return _Answer(
                    response,
                    body,
                    None,
                    slot,
                    following,
                    refused=f"{refusal}; {target} redirected there",
                )
            slot = self.throttle.slot(following, source)
            if not robots and self.settings.obey_robots:
                rule = await self.robots.rule_for(following)
                if rule is not None:
                    return _Answer(response, body, None, slot, following, forbidden=rule)
            # Validators from the archive belong to ``url``; another URL's 304 would be
            # answered with the wrong stored body.
            headers = {
                k: v
                for k, v in headers.items()
                if k.lower() not in ("if-none-match", "if-modified-since")
            }
            target = following
        words = f"too many redirects (more than {max_hops})"
        return _Answer(None, None, (words, False), slot, target)

    async def _send(
        self, slot: HostSlot, url: str, headers: dict[str, str], limit: int, robots: bool
    ) -> tuple[httpx.Response | None, bytes | None, tuple[str, bool] | None]:
        """One request in its host's slot: (response, body, (error words, retryable)).

        A body refused by its cap comes back as (response, None, (reason, False)).
        ``robots``: a robots.txt body is cut at ``limit``, not refused, and its status
        is not counted among the pages'.
        """
        if self._stats["requests"] >= self.settings.max_requests:
            raise RequestBudgetExhausted(
                f"request budget of {self.settings.max_requests:,} spent: the run stops "
                f"before {url}"
            )
        async with self.throttle.request(slot):
            t0 = time.monotonic()
            self._stats["requests"] += 1
            try:
                # A trickled body keeps each read under the read timeout: bound the whole.
                async with asyncio.timeout(self.settings.total_timeout):
                    request = self.client.build_request("GET", url, headers=headers)
                    response = await self.client.send(request, follow_redirects=False, stream=True)
                    try:
                        body = await read_bounded(response, limit, truncate=robots)
                    except BodyRefused as exc:
                        latency = time.monotonic() - t0
                        self.throttle.record(slot, latency, response.status_code)
                        if not robots:
                            self._count_status(response.status_code)
                        log.warning("GET %s -> %d refused: %s", url, response.status_code, exc)
                        return response, None, (exc.reason, False)
                    finally:
                        await response.aclose()
            except TimeoutError:
                words = (
                    f"timeout: no complete answer within {self.settings.total_timeout:g} s "
                    "(body trickled or server stalled)"
                )
                log.info("GET %s -> %s", url, words)
                return None, None, (words, True)
            except httpx.HTTPError as exc:
                latency = time.monotonic() - t0
                words, retryable = explain_error(exc)
                log.info("GET %s -> failed in %.2fs: %s", url, latency, words)
                return None, None, (words, retryable)
            except (httpx.InvalidURL, ValueError) as exc:
                return None, None, (f"invalid URL {url!r}: {exc}", False)
            latency = time.monotonic() - t0
            self.throttle.record(slot, latency, response.status_code)
        self._stats["bytes"] += len(body)
        if not robots:
            self._count_status(response.status_code)
        log.info(
            "GET %s -> %d (%d bytes, %.2fs)%s",
            url,
            response.status_code,
            len(body),
            latency,
            f", redirect to {response.extensions[_LOCATION]}"
            if response.status_code in _REDIRECTS and _LOCATION in response.extensions
            else "",
        )
        return response, body, None

    def count_refused(self, n: int = 1) -> None:
        """Count URLs refused before they reached the Fetcher (links off the site)."""
        self._stats["refused"] += n

    def _count_status(self, status: int) -> None:
        by_status = self._stats["pages_by_status"]
        by_status[str(status)] = by_status.get(str(status), 0) + 1

    def _refused(self, url: str, target: str, reason: str) -> FetchResult:
        """``target`` (``url`` or where it redirected) is off the site: not requested."""
        self._stats["refused"] += 1
        log.warning("not requested: %s", reason)
        return FetchResult(url, target, None, None, error=reason, refused=reason)

    def _disallowed(self, url: str, target: str, rule: str, context: dict[str, Any]) -> FetchResult:
        """``target`` (``url`` itself, or where a redirect from it pointed) is not fetched."""
        self._stats["disallowed"] += 1
        parts = urlsplit(target)
        unreachable = self.robots.unreachable(target)
        if unreachable is not None:
            # RFC 9309 makes it Disallow: /; the cause, and the run's status, is the network.
            words = (
                f"{parts.netloc} unreachable: its robots.txt got no answer ({unreachable}), "
                f"so {parts.path or '/'} was not fetched"
            )
        else:
            words = f"robots.txt of {parts.netloc} forbids {parts.path or '/'} ({rule})"
        if target != url:
            words += f"; it is where {url} redirected"
        log.info("not fetched: %s", words)
        result = FetchResult(url, target, None, None, disallowed=rule, error=words)
        result.unreachable = words if unreachable is not None else None
        result.page_id = self._store(url, None, None, context, error=words, final_url=target)
        return result

    def _not_modified(
        self,
        url: str,
        response: httpx.Response,
        stored_hash: str,
        etag: str | None,
        context: dict[str, Any],
        elapsed: float,
        retries: int,
    ) -> FetchResult:
        assert self.archive is not None
        body = self.archive.body(stored_hash)
        text, encoding = decode_body(body, response.headers.get("Content-Type"))
        self._stats["not_modified"] += 1
        result = FetchResult(
            url=url,
            final_url=str(response.url),
            status=304,
            body=body,
            text=text,
            encoding=encoding,
            headers=dict(response.headers),
            elapsed=elapsed,
            retries=retries,
            not_modified=True,
        )
        result.page_id = self.archive.store(
            url=url,
            body=None,
            status=304,
            reuse_hash=stored_hash,
            final_url=result.final_url,
            encoding=encoding,
            etag=response.headers.get("ETag") or etag,
            last_modified=response.headers.get("Last-Modified"),
            **context,
        )
        return result

    def _store(
        self,
        url: str,
        response: httpx.Response | None,
        body: bytes | None,
        context: dict[str, Any],
        *,
        encoding: str | None = None,
        blocked: str | None = None,
        error: str | None = None,
        final_url: str | None = None,
    ) -> int | None:
        if self.archive is None:
            return None
        headers = response.headers if response is not None else {}
        if final_url is None:
            final_url = str(response.url) if response is not None else url
        return self.archive.store(
            url=url,
            body=body,
            status=response.status_code if response is not None else None,
            final_url=final_url,
            encoding=encoding,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            blocked=blocked is not None,
            block_reason=blocked,
            error=error,
            **context,
        )

    async def _fetch_robots(self, robots_url: str) -> RobotsAnswer:
        """robots.txt through the same checks, slot and bounded read; archived as kind 'robots'.

        Its redirects are followed hop by hop (at most five), each on the site like any
        other request; the body is cut at ``max_robots_size`` decoded bytes.
        """
        self._stats["robots_requests"] += 1
        slot = self.throttle.slot(robots_url)
        context = {"run_id": self.run_id, "source": self.source_name, "as_of": self.as_of}
        context["kind"] = "robots"
        headers = {"User-Agent": self.settings.user_agent}
        answer = await self._attempt(slot, robots_url, headers, None, robots=True)
        if answer.refused is not None:
            self._stats["refused"] += 1
            log.warning("robots.txt not requested: %s", answer.refused)
            return None, None, answer.refused, False
        if answer.response is None or answer.body is None:
            words = answer.error[0] if answer.error else "no answer"
            log.info("GET %s -> failed: %s", robots_url, words)
            self._store(
                robots_url, answer.response, None, context, error=words, final_url=answer.final_url
            )
            return None, None, words, answer.response is None
        response, body = answer.response, answer.body
        self._store(robots_url, response, body, context, final_url=answer.final_url)
        return response.status_code, body, None, False
