"""The Fetcher: one httpx client, and every request through robots, throttle, retry, archive.

    async with Fetcher(settings, archive=PageArchive(db), run_id=7, source_name="lianjia",
                       as_of="2024-05-01") as fetcher:
        result = await fetcher.fetch("https://hz.lianjia.com/zufang/", source=source)

Each call: robots.txt check -> conditional headers from the archive -> per-host slot
(throttle) -> GET following redirects -> retry with backoff on transient failures ->
decode -> block detection -> archive -> :class:`FetchResult`. The archive write happens
before the result is returned, so nothing is parsed that was not stored first.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from db.pages import PageArchive

from ..source import Source
from .blocks import block_reason
from .decode import decode_body
from .retry import (
    PAUSE_STATUSES,
    RETRY_STATUSES,
    RetryBudget,
    RetryBudgetExhausted,
    backoff_delay,
    describe_error,
    is_retryable_error,
    parse_retry_after,
)
from .robots import RobotsCache
from .throttle import HostSlot, Throttle
from .transport import LeanTransport
from .types import FetchResult, FetchSettings

log = logging.getLogger(__name__)

_UNSET: Any = object()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


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
    :class:`LeanTransport` (``httpx.AsyncHTTPTransport()`` gives httpx's own pool).
    ``archive``: where every response is stored; None stores nothing (page_id stays None).
    ``run_id``, ``source_name``, ``as_of``: written on each archived page row; each may
    also be given per :meth:`fetch` call.
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        *,
        archive: PageArchive | None = None,
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
            self._client = httpx.AsyncClient(
                # httpcore's pool costs more CPU per page than parsing it; see transport.py.
                transport=self._transport or LeanTransport(),
                timeout=httpx.Timeout(self.settings.timeout),
                follow_redirects=True,
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
                return self._disallowed(url, host, parts.path or "/", rule, context)

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
            response, body, error, latency = await self._attempt(slot, url, headers)
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
                        self.throttle.pause(slot, min(retry_after, self.settings.backoff_max))
            if not retryable or retries >= self.settings.max_retries:
                break
            try:
                self.budget.spend(host=host, last_error=message, url=url)
            except RetryBudgetExhausted:
                self._stats["errors"] += 1
                self._store(url, response, body, context, error=message)
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
                url, url, None, None, elapsed=elapsed, retries=retries, error=words
            )
            result.page_id = self._store(url, None, None, context, error=words)
            return result

        assert body is not None
        if status == 304 and stored_hash is not None and self.archive is not None:
            return self._not_modified(url, response, stored_hash, etag, context, elapsed, retries)

        text, encoding = decode_body(body, response.headers.get("Content-Type"))
        result = FetchResult(
            url=url,
            final_url=str(response.url),
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
        )
        return result

    # -- steps ------------------------------------------------------------------------
    async def _attempt(
        self, slot: HostSlot, url: str, headers: dict[str, str]
    ) -> tuple[httpx.Response | None, bytes | None, tuple[str, bool] | None, float]:
        """One GET in the host's slot: (response, body, (error words, retryable), latency)."""
        async with self.throttle.request(slot):
            t0 = time.monotonic()
            try:
                response = await self.client.get(
                    url,
                    headers=headers,
                    follow_redirects=True,
                    timeout=httpx.Timeout(self.settings.timeout),
                )
                body = response.content
            except httpx.HTTPError as exc:
                latency = time.monotonic() - t0
                self._stats["requests"] += 1
                words = describe_error(exc)
                log.info("GET %s -> failed in %.2fs: %s", url, latency, words)
                return None, None, (words, is_retryable_error(exc)), latency
            latency = time.monotonic() - t0
            self.throttle.record(slot, latency, response.status_code)
        self._stats["requests"] += 1
        self._stats["bytes"] += len(body)
        by_status = self._stats["pages_by_status"]
        key = str(response.status_code)
        by_status[key] = by_status.get(key, 0) + 1
        final = str(response.url)
        log.info(
            "GET %s -> %d (%d bytes, %.2fs)%s",
            url,
            response.status_code,
            len(body),
            latency,
            f" via {final}" if final != url else "",
        )
        return response, body, None, latency

    def _disallowed(
        self, url: str, host: str, path: str, rule: str, context: dict[str, Any]
    ) -> FetchResult:
        self._stats["disallowed"] += 1
        words = f"robots.txt of {host} forbids {path} ({rule})"
        log.warning("not fetched: %s", words)
        result = FetchResult(url, url, None, None, disallowed=rule, error=words)
        result.page_id = self._store(url, None, None, context, error=words)
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
    ) -> int | None:
        if self.archive is None:
            return None
        headers = response.headers if response is not None else {}
        return self.archive.store(
            url=url,
            body=body,
            status=response.status_code if response is not None else None,
            final_url=str(response.url) if response is not None else url,
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
                words = describe_error(exc)
                log.info("GET %s -> failed: %s", robots_url, words)
                self._store(robots_url, None, None, {**context, "kind": "robots"}, error=words)
                return None, None, words
        body = response.content
        self._stats["bytes"] += len(body)
        log.info("GET %s -> %d (%d bytes)", robots_url, response.status_code, len(body))
        self._store(robots_url, response, body, {**context, "kind": "robots"})
        return response.status_code, body, None
