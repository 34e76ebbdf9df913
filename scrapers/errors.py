"""Errors raised by the collecting side.

    ScrapeError
    ├── PageError              a page could not be read as the source's page
    │   ├── NotAListingPage    the page belongs to another site or another kind of page
    │   ├── EmptyPage          an empty or truncated body
    │   ├── LayoutChanged      the page looks like the source's but a selector found nothing
    │   └── BlockedPage        a captcha, verification or login page
    ├── UnknownSource          no source of that name in the registry
    └── FetchError             the fetch layer gave up (see scrapers.fetch)

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
