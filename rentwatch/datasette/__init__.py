"""What the Datasette site shows: metadata, canned queries and dashboards (pure data + SQL)."""

from rentwatch.datasette.metadata import build_metadata

__all__ = ["build_metadata"]
