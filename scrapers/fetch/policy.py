"""Politeness is a floor: settings a scrape must not go below, checked before it starts.

Against a host that is not loopback or private (``localhost``, 127.0.0.1, 10.x …):

* at least :data:`MIN_DELAY` seconds between two requests, at most
  :data:`MAX_CONCURRENCY` requests in flight, unless the person running it says the
  site gave permission (``--i-have-permission``, ``i_have_permission = true``);
* never a User-Agent naming a search engine's crawler: sites such as Lianjia let named
  search engines in and no one else, and borrowing their name takes their robots rules.

``run --check`` and ``rentwatch scrape`` both use these functions, so a config that
``run`` would refuse is refused by ``--check`` too.
"""

from __future__ import annotations

import re

from scrapers.fetch.guard import is_local_host

MIN_DELAY = 1.0
MAX_CONCURRENCY = 2

#: Tokens of search-engine crawlers' User-Agents (as their robots.txt groups name them).
SEARCH_ENGINE_CRAWLERS = (
    "googlebot",
    "google-inspectiontool",
    "googleother",
    "adsbot-google",
    "mediapartners-google",
    "bingbot",
    "bingpreview",
    "msnbot",
    "adidxbot",
    "baiduspider",
    "yandexbot",
    "yandex.com/bots",
    "sogou",
    "360spider",
    "haosouspider",
    "bytespider",
    "yisouspider",
    "petalbot",
    "slurp",
    "duckduckbot",
    "applebot",
    "seznambot",
    "naverbot",
    "yeti",
    "exabot",
    "facebot",
    "facebookexternalhit",
)
_CRAWLER = re.compile("|".join(re.escape(name) for name in SEARCH_ENGINE_CRAWLERS), re.I)


def user_agent_refusal(user_agent: str) -> str | None:
    """Why ``user_agent`` must not be sent: it names a search engine's crawler."""
    match = _CRAWLER.search(user_agent or "")
    if match is None:
        return None
    return (
        f"--user-agent names a search engine's crawler ({match.group(0)}): sites let those in "
        "under rules meant for them; rentwatch sends its own name"
    )


def politeness_refusal(
    host: str | None, delay: float, concurrency: int, *, permission: bool = False
) -> str | None:
    """Why this delay and concurrency against ``host`` are below the floor; None if fine."""
    if permission or is_local_host(host):
        return None
    problems = []
    if delay < MIN_DELAY:
        problems.append(f"a delay of {delay:g} s (at least {MIN_DELAY:g} s)")
    if concurrency > MAX_CONCURRENCY:
        problems.append(f"{concurrency} requests at once (at most {MAX_CONCURRENCY})")
    if not problems:
        return None
    return (
        f"{' and '.join(problems)} against {host} is below the politeness floor; "
        "only with the site's permission (--i-have-permission, or i_have_permission = true)"
    )
