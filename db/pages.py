"""The raw page archive: every fetched or saved body, stored before it is parsed.

Bodies are content-addressed (sha256) and compressed in ``page_bodies``, so the same
bytes are stored once however often they are fetched; ``pages`` holds one row per fetch.
Each write is one transaction: a page row never points at a missing body. Phone
numbers and agents' names are removed from a body before it is stored (``db.privacy``).

Each body row names its codec in ``page_bodies.compression``: ``zstd`` (level 3) for
bodies stored now; ``zlib`` in archives written before, still read; a codec this version
does not know is a clear error, never bytes returned as they are. Why zstd: on the real
saved pages it costs a sixth of zlib's CPU for a smaller archive (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from db.connection import inserted_id
from db.privacy import scrub_body
from db.transactions import write_transaction

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # the same module, backported (PEP 784)
    from backports import zstd

#: The codec new bodies are stored with, and its level (zstd's own default).
CODEC = "zstd"
ZSTD_LEVEL = 3


def content_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def compress_body(body: bytes) -> bytes:
    """``body`` as stored in ``page_bodies.body`` with :data:`CODEC`."""
    return zstd.compress(body, ZSTD_LEVEL)


def decompress_body(data: bytes, codec: str | None) -> bytes:
    """A stored body back to its bytes, by the codec its row names."""
    if codec == "zstd":
        return zstd.decompress(data)
    if codec == "zlib":
        return zlib.decompress(data)
    if codec in (None, "", "none"):
        return bytes(data)
    raise ValueError(f"archived body compressed with {codec!r}, which this version cannot read")


@dataclass(slots=True)
class ArchivedPage:
    id: int
    run_id: int | None
    source: str | None
    url: str
    final_url: str | None
    kind: str | None
    as_of: str | None
    status: int | None
    content_hash: str  # pages_for_reparse reads only pages with a body
    blocked: bool
    block_reason: str | None
    error: str | None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: Bodies a PageArchive keeps in memory after storing them, at most (pages and bytes):
#: the crawl parses a page right after it is stored, a few pages at once at most.
KEEP_PAGES = 8
KEEP_BYTES = 32 * 1024 * 1024


class PageArchive:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        #: The bodies last stored, as stored (scrubbed), by page id: :meth:`page_body`
        #: returns them without reading back and decompressing what was just written.
        self._kept: dict[int, bytes] = {}

    def store(
        self,
        *,
        url: str,
        body: bytes | None,
        status: int | None,
        source: str | None = None,
        run_id: int | None = None,
        kind: str | None = None,
        as_of: str | None = None,
        final_url: str | None = None,
        encoding: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        blocked: bool = False,
        block_reason: str | None = None,
        error: str | None = None,
        fetched_at: str | None = None,
        reuse_hash: str | None = None,
    ) -> int:
        """Archive one response (or one failure, with ``body`` None) and return its page id.

        ``reuse_hash`` records a 304 Not Modified: the row points at the body stored earlier.
        """
        digest = reuse_hash
        if body is not None:
            body = scrub_body(body, encoding)
        with write_transaction(self.db):
            if body is not None:
                digest = content_hash(body)
                self.db.execute(
                    "INSERT OR IGNORE INTO page_bodies (hash, body, size, compression) "
                    "VALUES (?, ?, ?, ?)",
                    [digest, compress_body(body), len(body), CODEC],
                )
            cursor = self.db.execute(
                "INSERT INTO pages (run_id, source, url, final_url, kind, as_of, fetched_at, "
                "status, content_hash, encoding, etag, last_modified, blocked, block_reason, "
                "error, parse_status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    run_id,
                    source,
                    url,
                    final_url or url,
                    kind,
                    as_of,
                    fetched_at or now_iso(),
                    status,
                    digest,
                    encoding,
                    etag,
                    last_modified,
                    int(blocked),
                    block_reason,
                    error,
                    "skipped" if (blocked or digest is None) else "pending",
                ],
            )
            page_id = inserted_id(cursor)
        if body is not None and not blocked:
            self._keep(page_id, body)
        return page_id

    def _keep(self, page_id: int, body: bytes) -> None:
        self._kept[page_id] = body
        while len(self._kept) > KEEP_PAGES or sum(map(len, self._kept.values())) > KEEP_BYTES:
            del self._kept[next(iter(self._kept))]

    def body(self, digest: str) -> bytes:
        row = self.db.execute(
            "SELECT body, compression FROM page_bodies WHERE hash = ?", [digest]
        ).fetchone()
        if row is None:
            raise KeyError(f"no archived body with hash {digest}")
        data, compression = row
        return decompress_body(data, compression)

    def page_body(self, page_id: int) -> bytes:
        """The archived body of page ``page_id``: the same bytes the archive stored."""
        kept = self._kept.pop(page_id, None)
        if kept is not None:
            return kept
        row = self.db.execute("SELECT content_hash FROM pages WHERE id = ?", [page_id]).fetchone()
        if row is None or row[0] is None:
            raise KeyError(f"page {page_id} has no archived body")
        return self.body(row[0])

    def validators(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(etag, last_modified, content_hash) of the newest good fetch of ``url``, for conditional GETs."""
        row = self.db.execute(
            "SELECT etag, last_modified, content_hash FROM pages WHERE url = ? AND status = 200 "
            "AND blocked = 0 AND content_hash IS NOT NULL ORDER BY id DESC LIMIT 1",
            [url],
        ).fetchone()
        return (row[0], row[1], row[2]) if row else (None, None, None)

    def mark_parsed(
        self, page_id: int, *, ok: bool, records: int = 0, error: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE pages SET parse_status = ?, records = ?, parse_error = ? WHERE id = ?",
            ["ok" if ok else "error", records, error, page_id],
        )

    def mark_blocked(self, page_id: int, reason: str) -> None:
        """A page the parser recognised as a block page: not content, never parsed again."""
        with write_transaction(self.db):
            self.db.execute(
                "UPDATE pages SET blocked = 1, block_reason = ?, parse_status = 'skipped' WHERE id = ?",
                [reason, page_id],
            )

    def unusable_pages(self, run_id: int) -> int:
        """Pages of a run that brought no content: blocked, failed, or not a 200 answer."""
        return int(
            self.db.execute(
                "SELECT count(*) FROM pages WHERE run_id = ? AND (blocked = 1 OR content_hash IS NULL "
                "OR status IS NULL OR status != 200)",
                [run_id],
            ).fetchone()[0]
        )

    def pages_for_reparse(
        self, *, source: str | None = None, since: str | None = None, until: str | None = None
    ) -> Iterator[ArchivedPage]:
        """Archived pages with a body and not blocked, oldest first, for ``rentwatch reparse``."""
        # Only pages that were content when archived: not blocked, not an error answer.
        where = [
            "content_hash IS NOT NULL",
            "blocked = 0",
            "error IS NULL",
            "(status IS NULL OR status IN (200, 304))",
            "kind IN ('list', 'detail', 'saved')",
        ]
        params: list[Any] = []
        if source:
            where.append("source = ?")
            params.append(source)
        if since:
            where.append("as_of >= ?")
            params.append(since)
        if until:
            where.append("as_of <= ?")
            params.append(until)
        sql = (
            "SELECT id, run_id, source, url, final_url, kind, as_of, status, content_hash, "
            f"blocked, block_reason, error FROM pages WHERE {' AND '.join(where)} ORDER BY id"
        )
        for row in self.db.execute(sql, params).fetchall():
            page = ArchivedPage(*row)
            page.blocked = bool(page.blocked)  # stored as 0/1
            yield page


def saved_page_with_hash(db: sqlite_utils.Database, digest: str) -> tuple[int, str] | None:
    """(page id, day) of a saved page with this body that was parsed: the inbox takes none twice."""
    row = db.execute(
        "SELECT id, as_of FROM pages WHERE content_hash = ? AND kind = 'saved' "
        "AND parse_status = 'ok' ORDER BY id LIMIT 1",
        [digest],
    ).fetchone()
    return (row[0], row[1]) if row else None
