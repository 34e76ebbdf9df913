"""The fetch layer: the only place rentwatch talks HTTP.

Layering, one concern per module (as Scrapy's ``downloadermiddlewares``), driven by
:class:`Fetcher` in ``client.py`` on ONE ``httpx.AsyncClient``::

    Fetcher.fetch(url, kind=, source=)
      ├── robots.py    robots.txt per host, fetched once per run, obeyed for our User-Agent
      ├── throttle.py  per host: concurrency, delay + jitter, AutoThrottle, Retry-After pauses
      ├── retry.py     what is retried, full-jitter backoff, the run-wide retry budget
      ├── decode.py    bytes -> text (header, <meta>, BOM, verified; GBK read as GB18030)
      ├── blocks.py    403/418, login/captcha redirects, captcha pages, Source.block_reason
      ├── transport.py LeanTransport: HTTP/1.1 keep-alive under httpx (TLS verified as httpx does)
      └── db.pages.PageArchive.store   every response archived before it is returned

Redirects are followed by the Fetcher itself, one hop at a time, so that every hop
waits for its host's politeness slot and is checked against that host's robots.txt;
a redirect to a login or captcha URL is the block and is not followed.

Sources never build clients; the crawl opens one Fetcher per run and passes it the
archive and the run's context (``run_id``, ``source_name``, ``as_of``).

A fetch answers with a :class:`FetchResult`; a bad page is a value, not an exception:

* ``result.ok``: a 200 (or a 304 answered from the archive) that is not a block page;
* ``result.blocked``: why it is a block page (captcha, login redirect, 403/418);
* ``result.disallowed``: the robots.txt rule that forbids the URL (it was not fetched);
* ``result.error``: a transport failure or an HTTP error, in words, after retries.

Errors raised, part of the tree in :mod:`scrapers.errors`::

    ScrapeError
    └── FetchError                   the fetch layer gave up
        └── RetryBudgetExhausted     the run's retries are spent: the host looks down;
                                     the crawl should end the run with this message
    ValueError                       a URL that is not http(s)
"""

from scrapers.fetch.client import Fetcher
from scrapers.fetch.retry import RetryBudgetExhausted
from scrapers.fetch.types import FetchResult, FetchSettings

__all__ = ["FetchResult", "FetchSettings", "Fetcher", "RetryBudgetExhausted"]
