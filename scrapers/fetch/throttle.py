"""Per-host politeness: how many requests in flight, how long between their starts.

Each host gets a :class:`HostSlot` holding

* a semaphore: at most ``Politeness.concurrency`` requests in flight;
* a delay between request *starts*, and from each request's end to the next start: the
  configured delay is a minimum, and each wait
  is drawn uniformly from ``delay .. delay * (1 + jitter)`` so that requests never come
  closer together than promised and still do not tick like a clock;
* an AutoThrottle-like adaptation (Scrapy's ``extensions/throttle.py``): after each
  response the delay moves half-way towards ``latency / target_concurrency``, rises at
  once when the server slows down, never falls below the configured delay, and a
  non-200 answer never lowers it;
* a pause: after a 429 or 503 with ``Retry-After``, no request starts before that time;
* a floor: a robots.txt ``Crawl-delay`` raises the host's minimum delay
  (:meth:`Throttle.require_delay`), whatever the configured delay says.

A delay of 0 means no waiting at all (and no adaptation): local tests and the bench.

Which :class:`Politeness` applies to a host, first match wins: ``FetchSettings.per_host``
(by ``host:port``, then by host name), the fetching source's ``politeness``, then
``FetchSettings.politeness``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapers.fetch.types import FetchSettings
from scrapers.source import Politeness, Source


def politeness_for(settings: FetchSettings, url: str, source: Source | None = None) -> Politeness:
    parts = urlsplit(url)
    for key in (parts.netloc, parts.hostname):
        if key and key in settings.per_host:
            return settings.per_host[key]
    if source is not None:
        return source.politeness
    return settings.politeness


@dataclass(slots=True)
class HostSlot:
    host: str
    politeness: Politeness
    semaphore: asyncio.Semaphore
    #: Current delay between request starts; AutoThrottle moves it, never below ``floor``.
    delay: float
    #: The least delay: the configured one, raised by a robots.txt Crawl-delay.
    floor: float = 0.0
    next_start: float = 0.0
    last_start: float = float("-inf")
    paused_until: float = 0.0
    in_flight: int = 0
    max_in_flight: int = 0
    latencies: list[float] = field(default_factory=list)


class Throttle:
    def __init__(
        self,
        settings: FetchSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.rng = rng or random.Random()
        self.slots: dict[str, HostSlot] = {}

    def slot(self, url: str, source: Source | None = None) -> HostSlot:
        host = urlsplit(url).netloc
        slot = self.slots.get(host)
        if slot is None:
            polite = politeness_for(self.settings, url, source)
            if polite.concurrency < 1 or polite.delay < 0:
                raise ValueError(
                    f"politeness for {host} needs concurrency >= 1 and delay >= 0, got {polite}"
                )
            slot = HostSlot(
                host,
                polite,
                asyncio.Semaphore(polite.concurrency),
                polite.delay,
                floor=polite.delay,
            )
            self.slots[host] = slot
        return slot

    @asynccontextmanager
    async def request(self, slot: HostSlot) -> AsyncIterator[HostSlot]:
        """Hold one of the host's in-flight places, starting no sooner than its delay allows."""
        async with slot.semaphore:
            await self._wait_turn(slot)
            slot.in_flight += 1
            slot.max_in_flight = max(slot.max_in_flight, slot.in_flight)
            try:
                yield slot
            finally:
                slot.in_flight -= 1
                # Counted from the end too: a request whose connection took long to open
                # reaches the server late, and the next one must not arrive on its heels.
                if slot.delay > 0:
                    slot.next_start = max(slot.next_start, self.clock() + self._draw(slot))

    async def _wait_turn(self, slot: HostSlot) -> None:
        while True:
            now = self.clock()
            start_at = max(slot.next_start, slot.paused_until)
            if start_at <= now:
                slot.last_start = now
                slot.next_start = now + self._draw(slot)
                return
            # Re-checked after waking: another request may have taken the turn or a pause begun.
            await asyncio.sleep(start_at - now)

    def _draw(self, slot: HostSlot) -> float:
        if slot.delay <= 0:
            return 0.0
        jitter = max(slot.politeness.jitter, 0.0)
        return slot.delay * self.rng.uniform(1.0, 1.0 + jitter)

    def record(self, slot: HostSlot, latency: float, status: int | None) -> None:
        """AutoThrottle: adapt the host's delay to the latency of the response just received."""
        slot.latencies.append(latency)
        if len(slot.latencies) > 50:
            del slot.latencies[:-50]
        if not self.settings.autothrottle or slot.floor <= 0:
            return
        target = latency / max(self.settings.autothrottle_target, 0.1)
        new_delay = max(target, (slot.delay + target) / 2.0)
        new_delay = max(slot.floor, min(new_delay, self.settings.autothrottle_max_delay))
        if status != 200 and new_delay <= slot.delay:
            return
        slot.delay = new_delay

    def require_delay(self, slot: HostSlot, seconds: float) -> None:
        """Never less than ``seconds`` between request starts to this host (Crawl-delay)."""
        if seconds > slot.floor:
            slot.floor = seconds
            slot.delay = max(slot.delay, seconds)
            # The turn already promised was drawn from the old delay.
            slot.next_start = max(slot.next_start, slot.last_start + seconds)

    def pause(self, slot: HostSlot, seconds: float) -> None:
        """No request to this host starts for ``seconds`` (429 / 503 with Retry-After)."""
        slot.paused_until = max(slot.paused_until, self.clock() + max(seconds, 0.0))
