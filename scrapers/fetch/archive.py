"""What the Fetcher needs of a page archive, as a Protocol: the fetch layer sits below
storage and never imports it; ``db.pages.PageArchive`` is the archive the crawl passes in."""

from __future__ import annotations

from typing import Protocol


class PageStore(Protocol):
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
        """Archive one response (or one failure, with ``body`` None); return its page id."""
        ...

    def body(self, digest: str) -> bytes:
        """The stored body with this content hash."""
        ...

    def validators(self, url: str) -> tuple[str | None, str | None, str | None]:
        """(etag, last_modified, content_hash) of the newest good fetch of ``url``."""
        ...
