"""No request leaves the site: which URLs the crawl may ask for at all.

Every URL the Fetcher requests (start pages, pager URLs, next links, every redirect hop,
robots.txt and its redirects) passes :meth:`SiteGuard.refusal` first, and its host's
resolved addresses pass :meth:`SiteGuard.address_refusal`:

* the scheme is ``http`` or ``https`` (``file:``, ``javascript:``, ``mailto:`` … never);
* the host is one the source declares for the city (``hz.lianjia.com``), or the
  ``--base-url`` host and port, when ``hosts`` is given;
* no address the host name resolves to is private, loopback, link-local (the cloud
  metadata service at 169.254.169.254), multicast, reserved or unspecified, unless the
  base URL itself is on such an address (``allow_private``: how tests and the demo run).

A host name that does not resolve is not refused here: the request then fails as any
unreachable host does (or a proxy resolves it). The check runs before the connection,
so a name that resolves differently a moment later (DNS rebinding) is not caught.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def address_kind(address: str) -> str | None:
    """``"loopback"``, ``"private"``, … for an address a crawler must not reach; None if public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "reserved", "unspecified"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None


def is_local_host(host: str | None) -> bool:
    """A loopback or private host: ``localhost`` or such an IP literal (no DNS asked)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    return host == "localhost" or host.endswith(".localhost") or address_kind(host) is not None


def host_key(url: str) -> str:
    """``host:port`` with the scheme's default port made explicit, lowercased."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError:
        port = -1
    return f"{host}:{port}"


class SiteGuard:
    """What one run may request. ``hosts`` None: any public host (direct Fetcher use)."""

    def __init__(self, hosts: Iterable[str] | None = None, *, allow_private: bool = False) -> None:
        #: host names (any default port) and ``host:port`` keys (a base URL's exact port).
        self.hosts = None if hosts is None else frozenset(h.lower() for h in hosts)
        self.allow_private = allow_private
        self._resolved: dict[tuple[str, int], str | None] = {}

    @classmethod
    def for_site(cls, declared: Iterable[str], base_url: str | None) -> SiteGuard:
        """The source's declared hosts, or only the base URL's host when one is given."""
        if base_url:
            base = base_url if "://" in base_url else f"http://{base_url}"
            return cls([host_key(base)], allow_private=is_local_host(urlsplit(base).hostname))
        return cls(declared)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` must not be requested (scheme, host), in one line; None if it may."""
        try:
            parts = urlsplit(url)
            hostname = parts.hostname
            parts.port  # noqa: B018 (raises ValueError on a port that is no number)
        except ValueError:
            return f"refused {_short(url)}: not a valid URL"
        if parts.scheme not in _DEFAULT_PORTS:
            scheme = parts.scheme or "no scheme"
            return f"refused {_short(url)}: {scheme} is not http or https"
        if not hostname:
            return f"refused {_short(url)}: no host"
        if self.hosts is not None and not self._on_site(hostname.lower(), parts.port, url):
            return f"refused {_short(url)}: off the site ({parts.netloc} is not {self._names()})"
        if not self.allow_private:
            kind = address_kind(hostname)
            if kind:
                return f"refused {_short(url)}: {hostname} is a {kind} address"
        return None

    def _on_site(self, hostname: str, port: int | None, url: str) -> bool:
        assert self.hosts is not None
        default_port = port is None or port in _DEFAULT_PORTS.values()
        return (hostname in self.hosts and default_port) or host_key(url) in self.hosts

    async def address_refusal(self, url: str) -> str | None:
        """Why ``url``'s host must not be reached: it resolves to a private address."""
        if self.allow_private:
            return None
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
        key = (host, port)
        if key not in self._resolved:
            self._resolved[key] = await self._resolve_refusal(host, port)
        reason = self._resolved[key]
        return f"refused {_short(url)}: {reason}" if reason else None

    async def _resolve_refusal(self, host: str, port: int) -> str | None:
        if address_kind(host):
            return f"{host} is a {address_kind(host)} address"
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            return None  # unresolvable: the request fails as any unreachable host does
        for info in infos:
            address = str(info[4][0])
            kind = address_kind(address)
            if kind:
                return f"{host} resolves to {address}, a {kind} address"
        return None

    def _names(self) -> str:
        names = sorted(self.hosts or ())
        return " or ".join(n.removesuffix(":80").removesuffix(":443") for n in names[:4])


def _short(url: str, limit: int = 120) -> str:
    one_line = " ".join(url.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
