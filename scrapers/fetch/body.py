"""Response bodies, bounded before they are decoded.

httpx's own decoders inflate whatever a server sends: a page sent with
``Content-Encoding: gzip, gzip`` inflates a 25 KB body into gigabytes inside one
``aiter_bytes()`` step, before any size check can look. So the Fetcher reads the raw
bytes (``aiter_raw``) and decodes them here, with the output of each step capped:

* at most one content-coding, and only ``gzip`` or ``deflate`` (what we ask for);
* raw bytes and decoded bytes each capped at ``limit``; zlib is never asked for more
  than the room left plus one byte, so memory stays within the cap whatever comes;
* a declared ``Content-Length`` over the cap is refused before a byte is read;
* ``truncate=True`` (robots.txt) keeps the first ``limit`` decoded bytes instead of
  refusing: RFC 9309 lets a crawler stop parsing after 500 KiB.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

import httpx

#: Decoded bytes of a page (or a saved file) read at most.
MAX_BODY_SIZE = 20 * 1024 * 1024
#: Decoded bytes of robots.txt parsed at most (RFC 9309 2.5: at least 500 KiB).
MAX_ROBOTS_SIZE = 512 * 1024
#: What we tell servers we accept: the codings decoded here, nothing else.
ACCEPT_ENCODING = "gzip, deflate"


class BodyRefused(Exception):
    """The body is over a cap or encoded in a way we refuse; ``reason`` says which, in words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _mib(n: int) -> str:
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n:,}-byte"


def too_large(limit: int, seen: str) -> BodyRefused:
    return BodyRefused(f"body over the {_mib(limit)} cap ({seen}): refused, not archived")


def content_codings(headers: httpx.Headers) -> list[str]:
    value = ",".join(headers.get_list("content-encoding"))
    return [
        c.strip().lower() for c in value.split(",") if c.strip().lower() not in ("", "identity")
    ]


class _Inflater:
    """One zlib stream whose output per step never exceeds the room it is given."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._z: zlib._Decompress | None = None
        if coding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, room: int) -> bytes:
        if self._z is None:
            # "deflate" is zlib-wrapped by the RFC; some servers send it raw. The header says which.
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        try:
            out = self._z.decompress(data, room)
        except zlib.error as exc:
            raise BodyRefused(f"body could not be decompressed ({self.coding}: {exc})") from exc
        # Output that did not fit stays in unconsumed_tail, never in memory: the caller sees
        # ``room`` bytes, one more than the cap allows, and stops.
        return out


async def read_bounded(
    response: httpx.Response, limit: int = MAX_BODY_SIZE, *, truncate: bool = False
) -> bytes:
    """The decoded body of ``response``, at most ``limit`` bytes; :class:`BodyRefused` else."""
    return await decode_bounded(response.aiter_raw(), response.headers, limit, truncate=truncate)


async def decode_bounded(
    raw: AsyncIterator[bytes], headers: httpx.Headers, limit: int, *, truncate: bool = False
) -> bytes:
    codings = content_codings(headers)
    if len(codings) > 1:
        raise BodyRefused(
            f"more than one content-coding ({', '.join(codings)}): a compression bomb's "
            "shape; refused, not archived"
        )
    coding = codings[0] if codings else None
    if coding not in (None, "gzip", "x-gzip", "deflate"):
        raise BodyRefused(f"content-coding {coding!r} was not asked for: refused, not archived")
    declared = headers.get("content-length", "")
    if not truncate and declared.isdigit() and int(declared) > limit:
        raise too_large(limit, f"Content-Length {int(declared):,} bytes")
    inflater = _Inflater(coding) if coding else None
    out = bytearray()
    received = 0
    async for chunk in raw:
        received += len(chunk)
        if inflater is None:
            out += chunk
        else:
            out += inflater.feed(chunk, limit - len(out) + 1)
        if len(out) > limit or received > limit:
            if truncate:
                del out[limit:]
                return bytes(out)
            seen = f"{coding}, more than {limit:,} bytes decoded" if coding else "no end in sight"
            raise too_large(limit, seen)
    return bytes(out)
