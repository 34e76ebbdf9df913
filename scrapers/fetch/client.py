"""The Fetcher: one httpx client, and every request through robots, throttle, retry, archive.

    async with Fetcher(settings, archive=PageArchive(db), run_id=7, source_name="lianjia",
                       as_of="2024-05-01") as fetcher:
        result = await fetcher.fetch("https://hz.lianjia.com/zufang/", source=source)

Each call: robots.txt check -> conditional headers from the archive -> per-host slot
(throttle) -> GET, following redirects hop by hop -> retry with backoff on transient
failures -> decode -> block detection -> archive -> :class:`FetchResult`. The archive
write happens before the result is returned, so nothing is parsed that was not stored
first.

Redirects are followed here, not inside httpx, so that every hop is a request like any
other (as Scrapy's RedirectMiddleware makes them): it waits for its host's slot, and its
target is checked against that host's robots.txt first. A target robots.txt forbids is
not fetched (``result.disallowed`` holds the rule); a target that is a login or captcha
URL is not fetched either: the redirect itself is the block (``result.blocked``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from scrapers.fetch.archive import PageStore
from scrapers.fetch.blocks import block_reason, redirect_reason
from scrapers.fetch.decode import decode_body
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
from scrapers.fetch.robots import RobotsCache
from scrapers.fetch.throttle import HostSlot, Throttle
from scrapers.fetch.transport import BodyTooLarge, LeanTransport, check_ca_path, too_large
from scrapers.fetch.types import FetchResult, FetchSettings
from scrapers.source import Source

log = logging.getLogger(__name__)

_UNSET: Any = object()


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
    if isinstance(exc, BodyTooLarge):
        return f"body too large ({exc}): not retried", False
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
    }


class Fetcher:
    """Polite, fault-tolerant fetching on ONE ``httpx.AsyncClient``.

    ``client``: an existing client to use (the Fetcher does not close it);
    ``transport``: a transport for the client the Fetcher builds; default
    :class:`LeanTransport` with ``settings.verify`` and ``settings.max_body_size``
    (``httpx.AsyncHTTPTransport(verify=...)`` gives httpx's own pool, with its own TLS
    settings).
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
        self._stats: dict[str, Any] = new_stats()

    # -- lifecycle ------------------------------------------------------------------
    async def __aenter__(self) -> Fetcher:
        if self._client is None:
            verify = self.settings.verify
            if not isinstance(verify, bool | ssl.SSLContext):
                check_ca_path(verify)  # now, not at the first https request
            self._client = httpx.AsyncClient(
                # httpcore's pool costs more CPU per page than parsing it; see transport.py.
                # LeanTransport loads the CA store (~50 ms) only when an https URL comes.
                transport=self._transport
                or LeanTransport(verify=verify, max_body_size=self.settings.max_body_size),
                timeout=httpx.Timeout(self.settings.timeout),
                follow_redirects=False,
                headers={"User-Agent": self.settings.user_agent},
            )
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

        Never raises for a bad page or a failed request (see ``FetchResult.error``,
        ``.blocked``, ``.disallowed``); raises :class:`RetryBudgetExhausted` when the
        run's retry budget is spent, and ``ValueError`` for a URL that is not http(s).
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"cannot fetch {url!r}: not an http(s) URL with a host")
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
        host = parts.netloc
        # The host's slot is made first so that robots.txt is fetched with the source's politeness.
        slot = self.throttle.slot(url, source)

        if self.settings.obey_robots:
            rule = await self.robots.rule_for(url)
            if rule is not None:
                return self._disallowed(url, url, rule, context)

        etag = last_modified = stored_hash = None
        headers = {"User-Agent": self.settings.user_agent}
        if self.settings.conditional and self.archive is not None:
            etag, last_modified, stored_hash = self.archive.validators(url)
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified

        retries = 0
        started = time.monotonic()
        while True:
            answer = await self._attempt(slot, url, headers, source)
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
                    if retry_after is not None and status in PAUSE_STATUSES:
                        self.throttle.pause(
                            answer.slot, min(retry_after, self.settings.backoff_max)
                        )
            if not retryable or retries >= self.settings.max_retries:
                break
            try:
                self.budget.spend(host=host, last_error=message, url=url)
            except RetryBudgetExhausted:
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
        if response is None:
            # No answer at all: timeouts, refused or reset connections, cut-short bodies.
            assert error is not None
            words = error[0] + (f" after {retries} retries" if retries else "")
            self._stats["errors"] += 1
            result = FetchResult(
                url, answer.final_url, None, None, elapsed=elapsed, retries=retries, error=words
            )
            result.page_id = self._store(
                url, None, None, context, error=words, final_url=answer.final_url
            )
            return result

        assert body is not None
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
        if result.blocked:
            self._stats["blocked"] += 1
            log.warning("blocked: %s: %s", url, result.blocked)
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
        self, slot: HostSlot, url: str, headers: dict[str, str], source: Source | None
    ) -> _Answer:
        """One GET and the redirects it leads to, each hop in its host's slot."""
        request = self.client.build_request(
            "GET", url, headers=headers, timeout=httpx.Timeout(self.settings.timeout)
        )
        for _hop in range(self.settings.max_redirects + 1):
            response, body, error = await self._send(slot, request)
            if response is None:
                return _Answer(None, None, error, slot, str(request.url))
            next_request = response.next_request
            if next_request is None:
                return _Answer(response, body, None, slot, str(response.url))
            target = str(next_request.url)
            if redirect_reason(url, target):
                # A login or captcha page: the redirect is the block; the page is not needed.
                return _Answer(response, body, None, slot, target)
            slot = self.throttle.slot(target, source)
            if self.settings.obey_robots:
                rule = await self.robots.rule_for(target)
                if rule is not None:
                    return _Answer(response, body, None, slot, target, forbidden=rule)
            # Validators from the archive belong to ``url``; another URL's 304 would be
            # answered with the wrong stored body.
            next_request.headers.pop("If-None-Match", None)
            next_request.headers.pop("If-Modified-Since", None)
            request = next_request
        words = f"too many redirects (more than {self.settings.max_redirects})"
        return _Answer(None, None, (words, False), slot, str(request.url))

    async def _send(
        self, slot: HostSlot, request: httpx.Request
    ) -> tuple[httpx.Response | None, bytes | None, tuple[str, bool] | None]:
        """One request in its host's slot: (response, body, (error words, retryable))."""
        url = str(request.url)
        async with self.throttle.request(slot):
            t0 = time.monotonic()
            try:
                response = await self.client.send(request, follow_redirects=False, stream=True)
                try:
                    body = await self._read_body(response)
                finally:
                    await response.aclose()
            except httpx.HTTPError as exc:
                latency = time.monotonic() - t0
                self._stats["requests"] += 1
                words, retryable = explain_error(exc)
                log.info("GET %s -> failed in %.2fs: %s", url, latency, words)
                return None, None, (words, retryable)
            latency = time.monotonic() - t0
            self.throttle.record(slot, latency, response.status_code)
        self._stats["requests"] += 1
        self._stats["bytes"] += len(body)
        by_status = self._stats["pages_by_status"]
        key = str(response.status_code)
        by_status[key] = by_status.get(key, 0) + 1
        next_request = response.next_request
        log.info(
            "GET %s -> %d (%d bytes, %.2fs)%s",
            url,
            response.status_code,
            len(body),
            latency,
            f", redirect to {next_request.url}" if next_request is not None else "",
        )
        return response, body, None

    async def _read_body(self, response: httpx.Response) -> bytes:
        """The decoded body, refused past ``max_body_size`` (a gzip bomb is cut early too)."""
        limit = self.settings.max_body_size
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large(response.request, limit, f"Content-Length {int(declared):,}")
        parts: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large(response.request, limit, f"over {size:,} bytes decoded")
            parts.append(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _disallowed(self, url: str, target: str, rule: str, context: dict[str, Any]) -> FetchResult:
        """``target`` (``url`` itself, or where a redirect from it pointed) is not fetched."""
        self._stats["disallowed"] += 1
        parts = urlsplit(target)
        words = f"robots.txt of {parts.netloc} forbids {parts.path or '/'} ({rule})"
        if target != url:
            words += f"; it is where {url} redirected"
        log.warning("not fetched: %s", words)
        result = FetchResult(url, target, None, None, disallowed=rule, error=words)
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

    async def _fetch_robots(self, robots_url: str) -> tuple[int | None, bytes | None, str | None]:
        """robots.txt through the same client and host slot, archived as kind 'robots'."""
        self._stats["robots_requests"] += 1
        slot = self.throttle.slot(robots_url)
        context = {"run_id": self.run_id, "source": self.source_name, "as_of": self.as_of}
        async with self.throttle.request(slot):
            self._stats["requests"] += 1
            try:
                response = await self.client.get(
                    robots_url,
                    headers={"User-Agent": self.settings.user_agent},
                    follow_redirects=True,
                )
            except httpx.HTTPError as exc:
                words = explain_error(exc)[0]
                log.info("GET %s -> failed: %s", robots_url, words)
                self._store(robots_url, None, None, {**context, "kind": "robots"}, error=words)
                return None, None, words
        body = response.content
        self._stats["bytes"] += len(body)
        log.info("GET %s -> %d (%d bytes)", robots_url, response.status_code, len(body))
        self._store(robots_url, response, body, {**context, "kind": "robots"})
        return response.status_code, body, None
