"""URLs of the sites: rebasing onto a local host, and the URLs that mean a block."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def rebase(url: str, base_url: str | None) -> str:
    """Replace only scheme and host of ``url`` with those of ``base_url`` (paths stay real)."""
    if not base_url:
        return url
    parts = urlsplit(url)
    base = urlsplit(base_url if "://" in base_url else f"http://{base_url}")
    return urlunsplit((base.scheme, base.netloc, parts.path or "/", parts.query, parts.fragment))


_LOGIN_HOSTS = ("clogin.", "login.", "passport.")


def url_block_reason(url: str) -> str | None:
    """Why a page's (final) URL is a login or captcha page rather than content, or None.

    Only a web address is judged: a saved page's ``file:`` path is where a person put it
    (``saved/login/zufang.html``), not where the site sent us.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return None
    host, path = parts.netloc.lower(), parts.path.lower()
    if host.startswith(_LOGIN_HOSTS) or "/login" in path:
        return f"redirected to a login page ({parts.netloc}{parts.path})"
    if host.startswith(("hip.", "callback.", "verify.")) or "captcha" in path or "verify" in path:
        return f"redirected to a captcha page ({parts.netloc}{parts.path})"
    return None
