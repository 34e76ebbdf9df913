"""Errors raised by the collecting side.

    ScrapeError
    ├── PageError              a page could not be read as the source's page
    │   ├── NotAListingPage    the page is not one of the source's pages (another site)
    │   │   └── NotARentalPage a page of the source that is not a rental list (sale, 小区, detail)
    │   ├── EmptyPage          an empty or truncated body
    │   ├── LayoutChanged      the page looks like the source's but a selector found nothing
    │   ├── BlockedPage        a captcha, verification or login page
    │   └── HostilePage        markup built to exhaust the parser (too deep, too many elements)
    ├── UnknownSource          no source of that name in the registry
    ├── PolitenessRefused      settings below the politeness floor, or a search engine's User-Agent
    └── FetchError             the fetch layer gave up (see scrapers.fetch)
        ├── OffSiteRequest     a URL off the source's hosts, not http(s), or on a private address
        └── RequestBudgetExhausted  the run asked for more pages than its budget

Every message names what was wrong (the URL, the selector, the source) so that a
person reading the run log can act on it.
"""

from __future__ import annotations


class ScrapeError(Exception):
    """Base class of every error raised by scrapers."""


class PageError(ScrapeError):
    def __init__(self, message: str, url: str | None = None) -> None:
        self.url = url
        super().__init__(f"{message} ({url})" if url else message)


class NotAListingPage(PageError):
    """The page is not a page of this source (another site, a 小区 page, …)."""


class NotARentalPage(NotAListingPage):
    """A page of the source's site that is not a rental list: a sale list or detail, a 小区
    list or page, a rental detail page where a list was expected.

    Told by the page's own structure or URL, never guessed from what it lacks.
    """

    def __init__(self, message: str, url: str | None = None, kind: str = "other") -> None:
        #: What the page is instead: "sale list", "小区 page", "rental detail", …
        self.kind = kind
        super().__init__(message, url)


class EmptyPage(PageError):
    """The body is empty or cut short."""


class LayoutChanged(PageError):
    """The page belongs to the source, but its markup no longer matches a selector."""

    def __init__(self, message: str, url: str | None = None, selector: str | None = None) -> None:
        self.selector = selector
        super().__init__(message, url)


class BlockedPage(PageError):
    """The site answered with a captcha, a verification or a login page instead of listings."""

    def __init__(self, reason: str, url: str | None = None) -> None:
        self.reason = reason
        super().__init__(f"blocked: {reason}", url)


class UnknownSource(ScrapeError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown source {name!r}; known sources: {', '.join(sorted(known))}")


class FetchError(ScrapeError):
    """The fetch layer gave up on a URL or a host."""


class HostilePage(PageError):
    """Markup no real listing page has (nesting thousands deep, millions of elements).

    Refused before the parser sees it: Lexbor's time grows with the square of the depth.
    """

    def __init__(self, reason: str, url: str | None = None) -> None:
        self.reason = reason
        super().__init__(f"hostile page: {reason}", url)


class PolitenessRefused(ScrapeError):
    """A scrape set up to be impolite: below the politeness floor, or posing as a search engine."""


class OffSiteRequest(FetchError):
    """A URL the crawl must not request: off the source's hosts, not http(s), or private."""

    def __init__(self, reason: str, url: str) -> None:
        self.reason = reason
        self.url = url
        super().__init__(reason)


class RequestBudgetExhausted(FetchError):
    """The run has sent as many requests as its budget allows."""
