"""What is retried, how long to wait, and the run-wide retry budget.

Retried: timeouts, connection errors, bodies cut short (httpx ``RemoteProtocolError``,
e.g. fewer bytes than ``Content-Length``), HTTP 408, 429 and 5xx. Not retried: other
4xx, block pages, robots.txt refusals.

The wait before retry *n* (0-based) is "full jitter" (AWS architecture blog, 2015):
uniform in ``0 .. min(backoff_max, backoff_base * 2**n)``; a ``Retry-After`` header
(seconds or an HTTP date) replaces it, capped by ``backoff_max``.

The budget counts retries over the whole run. When it runs out the site is taken to
be down and :class:`RetryBudgetExhausted` ends the run quickly instead of letting
every remaining URL wait through its own backoff.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from scrapers.errors import FetchError

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
#: Statuses whose Retry-After also pauses every request to the host, not just this URL.
PAUSE_STATUSES = frozenset({429, 503})


class RetryBudgetExhausted(FetchError):
    """Too many retries in one run: the host looks down or is refusing us."""

    def __init__(self, budget: int, host: str, last_error: str, url: str) -> None:
        self.budget = budget
        self.host = host
        self.last_error = last_error
        self.url = url
        #: Set by the Fetcher: the last try got no answer at all (DNS, connect, TLS, timeout).
        self.unreachable = False
        super().__init__(
            f"retry budget of {budget} exhausted: {host} looks down "
            f"(last error {last_error} on {url})"
        )


def is_retryable_error(exc: BaseException) -> bool:
    return isinstance(
        exc,
        httpx.TimeoutException
        | httpx.NetworkError
        | httpx.RemoteProtocolError
        | httpx.DecodingError,
    )


def describe_error(exc: BaseException) -> str:
    """A transport error in words, e.g. ``"timeout (ReadTimeout)"``."""
    name = type(exc).__name__
    detail = str(exc).strip()
    if isinstance(exc, httpx.TimeoutException):
        words = "timeout"
    elif isinstance(exc, httpx.ConnectError):
        words = "connection failed"
    elif isinstance(exc, httpx.RemoteProtocolError):
        words = "connection closed early or body cut short"
    elif isinstance(exc, httpx.NetworkError):
        words = "network error"
    elif isinstance(exc, httpx.DecodingError):
        words = "body could not be decompressed"
    else:
        words = "request failed"
    return f"{words} ({name}: {detail})" if detail else f"{words} ({name})"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(
    retry: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
    if retry_after is not None:
        return min(retry_after, cap)
    return (rng or random).uniform(0.0, min(cap, base * 2**retry))


class RetryBudget:
    def __init__(self, total: int) -> None:
        self.total = total
        self.spent = 0

    @property
    def left(self) -> int:
        return max(self.total - self.spent, 0)

    def spend(self, *, host: str, last_error: str, url: str) -> None:
        """Take one retry from the budget, or raise when none is left."""
        if self.spent >= self.total:
            raise RetryBudgetExhausted(self.total, host, last_error, url)
        self.spent += 1
