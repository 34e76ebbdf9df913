"""robots.txt: fetched once per host per run through the fetcher's client, then obeyed.

What an answer for ``/robots.txt`` means (RFC 9309, and Google's reading of it):

* 2xx: the file is parsed (Protego) and obeyed for our User-Agent;
* 4xx other than 429 (a missing file): everything is allowed;
* 429, 5xx or no answer at all: the host is treated as disallowing everything for
  this run, the conservative choice, and the reason says so. No answer at all (DNS,
  connect, TLS, timeout) also marks the host unreachable (``HostRobots.unreachable``):
  the run is then ``unreachable``, not ``disallowed``, since nothing refused us.

The body is read like any other, within a cap (``FetchSettings.max_robots_size``,
512 KiB; RFC 9309 2.5 asks a crawler to parse at least 500 KiB), and the rest ignored.
``Crawl-delay`` for our User-Agent is kept (``HostRobots.crawl_delay``): the Fetcher
honours it as the host's minimum delay.

A disallowed URL is never fetched. :meth:`RobotsCache.rule_for` returns the rule that
forbids it in words, e.g. ``"User-agent: * / Disallow: /"``, so that the crawl can
tell a person exactly which line of which robots.txt stopped it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

log = logging.getLogger(__name__)

#: What fetching a robots.txt URL gave: (status or None, body or None, error in words or
#: None, whether nothing answered at all: DNS, connect, TLS, timeout).
RobotsAnswer = tuple[int | None, bytes | None, str | None, bool]
RobotsFetch = Callable[[str], Awaitable[RobotsAnswer]]


@dataclass(slots=True)
class HostRobots:
    """What one host's robots.txt says for this run."""

    host: str
    parser: Protego | None = None
    #: Set when the host is treated as disallowing everything (robots.txt unreachable).
    disallow_all: str | None = None
    text: str = ""
    #: Why robots.txt got no answer at all (DNS, connect, TLS, timeout), in words.
    unreachable: str | None = None
    #: Seconds between requests the file asks of our User-Agent, if any.
    crawl_delay: float | None = None

    def rule_for(self, url: str, user_agent: str) -> str | None:
        """The rule forbidding ``url`` for ``user_agent``, in words; None when allowed."""
        if self.disallow_all:
            return self.disallow_all
        if self.parser is None or self.parser.can_fetch(url, user_agent):
            return None
        return explain(self.text, url, user_agent) or "Disallow (rule not identified)"


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


class RobotsCache:
    """One :class:`HostRobots` per ``scheme://host:port``, fetched on first use."""

    def __init__(self, user_agent: str, fetch: RobotsFetch) -> None:
        self.user_agent = user_agent
        self._fetch = fetch
        self._hosts: dict[str, HostRobots] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def host(self, url: str) -> HostRobots:
        key = robots_url(url)
        cached = self._hosts.get(key)
        if cached is not None:
            return cached
        # Requests to a new host wait for one robots.txt fetch instead of each sending their own.
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._hosts.get(key)
            if cached is None:
                cached = await self._load(key)
                self._hosts[key] = cached
        return cached

    def unreachable(self, url: str) -> str | None:
        """Why the robots.txt of ``url``'s host got no answer, once it was asked; else None."""
        cached = self._hosts.get(robots_url(url))
        return cached.unreachable if cached is not None else None

    async def rule_for(self, url: str) -> str | None:
        """The robots.txt rule that forbids ``url``, or None when it may be fetched."""
        if urlsplit(url).path == "/robots.txt":
            return None
        return (await self.host(url)).rule_for(url, self.user_agent)

    async def _load(self, key: str) -> HostRobots:
        host = urlsplit(key).netloc
        status, body, error, no_answer = await self._fetch(key)
        # An unreachable host is logged at info: the run's status and message say it, once.
        if status is None:
            reason = f"robots.txt unreachable ({error}): treated as Disallow: / for this run"
            log.info("robots.txt of %s: %s", host, reason)
            unreachable = (error or "no answer") if no_answer else None
            return HostRobots(host, disallow_all=reason, unreachable=unreachable)
        if status == 429 or status >= 500:
            reason = f"robots.txt answered HTTP {status}: treated as Disallow: / for this run"
            log.warning("robots.txt of %s: %s", host, reason)
            return HostRobots(host, disallow_all=reason)
        if status >= 400:
            log.info("robots.txt of %s: HTTP %d, everything allowed", host, status)
            return HostRobots(host)
        text = (body or b"").decode("utf-8", errors="replace")
        parser = Protego.parse(text)
        delay = parser.crawl_delay(self.user_agent)
        if delay is not None:
            log.info("robots.txt of %s: Crawl-delay %g s", host, delay)
        return HostRobots(host, parser=parser, text=text, crawl_delay=delay)


# -- explaining a decision -----------------------------------------------------------
# Protego decides; this finds the line it followed, for the message a person reads.


def _groups(text: str) -> list[tuple[list[str], list[tuple[str, str]]]]:
    """[(user agents, [(field, value), …]), …]; consecutive User-agent lines share a group."""
    groups: list[tuple[list[str], list[tuple[str, str]]]] = []
    agents: list[str] = []
    rules: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        field, value = (part.strip() for part in line.split(":", 1))
        field = field.lower()
        if field in ("user-agent", "useragent"):
            if rules:
                groups.append((agents, rules))
                agents, rules = [], []
            agents.append(value)
        elif field in ("allow", "disallow") and agents:
            rules.append((field, value))
    if agents:
        groups.append((agents, rules))
    return groups


def _agent_score(agent: str, user_agent: str) -> int:
    agent = agent.lower().replace("*", "") if agent != "*" else "*"
    if agent == "*":
        return 1
    return len(agent) if agent and agent in user_agent.lower() else 0


def _pattern_matches(pattern: str, path: str) -> bool:
    regex = "".join(".*" if c == "*" else re.escape(c) for c in pattern.rstrip("$"))
    regex += "$" if pattern.endswith("$") else ""
    return re.match(regex, path) is not None


def explain(text: str, url: str, user_agent: str) -> str | None:
    """``"User-agent: * / Disallow: /"``: the group and longest rule matching ``url``."""
    best_score, best_agent, best_rules = 0, "", []
    for agents, rules in _groups(text):
        for agent in agents:
            score = _agent_score(agent, user_agent)
            if score > best_score:
                best_score, best_agent, best_rules = score, agent, rules
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    matching = [(f, v) for f, v in best_rules if v and _pattern_matches(v, path)]
    if not matching:
        return None
    field, value = max(matching, key=lambda rule: (len(rule[1]), rule[0] == "allow"))
    if field != "disallow":
        return None
    return f"User-agent: {best_agent} / Disallow: {value}"
