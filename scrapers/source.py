"""What every listing site module provides.

A source is a small declaration (name, hosts, politeness) plus pure functions:
URLs for a city, a district or one building, how to page, how to parse list
and detail pages, and how to recognise the site's block pages. It never builds
an HTTP client or touches the database: :mod:`pipeline.collect.crawl` drives it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from scrapers.errors import NotAListingPage
from scrapers.record import ListingRecord, ListPage
from scrapers.urls import rebase, url_block_reason  # noqa: F401 (rebase is part of this module's API)

_CITY_CODE = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class Politeness:
    """How gently one host is asked. Defaults follow the real sites' tolerance."""

    #: Minimum seconds between two requests to one host (before jitter).
    delay: float = 3.0
    #: Each wait is drawn uniformly from delay .. delay*(1+jitter): the delay is a true minimum.
    jitter: float = 0.4
    #: Requests in flight at once to one host.
    concurrency: int = 1


@dataclass(frozen=True, slots=True)
class Capabilities:
    list: bool = True
    detail: bool = False
    building_query: bool = False
    district_query: bool = False


class Source(ABC):
    name: ClassVar[str]
    #: A person's name for the site, for `rentwatch sources`.
    title: ClassVar[str] = ""
    #: Host patterns with ``{city}`` standing for the city code, e.g. ``{city}.lianjia.com``.
    hosts: ClassVar[tuple[str, ...]] = ()
    politeness: ClassVar[Politeness] = Politeness()
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: The most list pages the site serves for one query (Lianjia: 100).
    max_pages: ClassVar[int | None] = None
    #: True where no real saved page confirmed the markup (docs/sources.md says so too).
    unverified: ClassVar[bool] = False

    #: A building's id on the site (registry ``site_ids``, ``--building``): one URL path
    #: segment unless the source is stricter (Lianjia: a resblock number).
    site_id_pattern: ClassVar[str] = r"[A-Za-z0-9][A-Za-z0-9_-]*"
    #: Shown by ``rentwatch sources`` when real pages confirmed only part of the markup.
    verified_note: ClassVar[str | None] = None

    #: HTTP statuses that mean the site refused us rather than answered.
    block_statuses: ClassVar[tuple[int, ...]] = (403, 418, 429)

    # -- URLs ---------------------------------------------------------------
    def base_url(self, city: str) -> str:
        """Scheme and host of the real site for a city, e.g. ``https://hz.lianjia.com``."""
        if not city or not _CITY_CODE.match(city):
            raise ValueError(
                f"{self.name}: city code must be lowercase letters such as 'hz', got {city!r}"
            )
        return "https://" + self.hosts[0].format(city=city)

    #: Path of a city's whole list, for sources that only offer that (e.g. ``"/house/"``).
    city_list_path: ClassVar[str | None] = None

    def list_urls(
        self,
        city: str,
        *,
        district: str | None = None,
        building: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        """First list page(s) for a city, a district (site's slug) or a building (site's 小区 id).

        The default serves sources that list a city only; others override it.
        """
        if district or building or self.city_list_path is None:
            raise ValueError(f"{self.name}: district and building queries are not supported")
        return [rebase(self.base_url(city) + self.city_list_path, base_url)]

    def following_urls(self, page: ListPage) -> list[str]:
        """Further list pages to fetch after ``page``; the crawler drops ones already seen."""
        return list(page.next_urls)

    def site_id_problem(self, site_id: str) -> str | None:
        """Why ``site_id`` cannot be a building's id on this site, or None."""
        if re.fullmatch(self.site_id_pattern, site_id):
            return None
        return f"{site_id!r} is not a {self.name} building id (expected {self.site_id_pattern})"

    # -- parsing (pure) -----------------------------------------------------
    @abstractmethod
    def parse_list(self, body: bytes, url: str) -> ListPage:
        """Records of a list page. Raises a PageError subclass on a page it does not understand."""

    def parse_detail(self, body: bytes, url: str) -> ListingRecord:
        raise NotAListingPage(f"{self.name} has no detail-page parser", url)

    def page_kind(self, url: str) -> str:
        """``list`` or ``detail`` from the URL alone, for ingest and reparse."""
        return "list"

    def created_on(self, listing_id: str) -> str | None:
        """The day (ISO, Asia/Shanghai) the site created the ad, when its id says so.

        Sites whose ids are time-ordered give away when an ad was put up, even on the
        first day we see it; the de-duplication uses it (ads of one flat go up within
        days of each other). None where the id carries no time.
        """
        return None

    def block_reason(self, body: bytes, url: str, status: int) -> str | None:
        """Why this page is a block page rather than content, or None."""
        if status in self.block_statuses:
            return f"HTTP {status}"
        reason = url_block_reason(url)
        if reason or not body:
            return reason
        return self.markup_block_reason(body, url)

    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        """Site-specific: why this body is a verification or login page, or None."""
        return None
