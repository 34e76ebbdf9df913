"""The listings table's search box: every whitespace-separated term must occur in the title,
the 小区 as the site writes it, the 板块 or the district.

The trigram index (listings_fts) answers terms of three or more characters; it cannot see
shorter ones, and most Chinese place names are two characters (九堡, 滨江), so those are
matched with LIKE on the listings themselves. Datasette's own search would send every term
to the index and find nothing for them.
"""

from __future__ import annotations

from collections.abc import Iterable

#: The columns searched, in the listings table and in listings_fts (migration m012).
COLUMNS = ("title", "community", "subdistrict", "district")
#: Below this many characters a term cannot match the trigram index.
TRIGRAM = 3


def _like_pattern(term: str) -> str:
    """``term`` as a LIKE substring pattern with its own %, _ and \\ taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _phrase(term: str) -> str:
    """``term`` as one FTS5 phrase, so that its quotes and operators are plain text."""
    return '"' + term.replace('"', '""') + '"'


def search_clause(
    text: str, *, pk: str = "id", indexed: Iterable[str] = COLUMNS
) -> tuple[str, dict[str, str]] | None:
    """A WHERE clause over ``listings`` and its parameters for the search ``text``.

    ``indexed``: the columns listings_fts holds; when it lacks some of :data:`COLUMNS` (a
    database not yet migrated to m012) every term is matched with LIKE instead.
    """
    terms = text.split()
    if not terms:
        return None
    use_index = set(COLUMNS) <= set(indexed)
    clauses: list[str] = []
    params: dict[str, str] = {}
    for i, term in enumerate(terms):
        name = f"rw_search_{i}"
        if use_index and len(term) >= TRIGRAM:
            clauses.append(
                f"[{pk}] in (select rowid from listings_fts where listings_fts match :{name})"
            )
            params[name] = _phrase(term)
        else:
            like = " or ".join(f"[{c}] like :{name} escape '\\'" for c in COLUMNS)
            clauses.append(f"({like})")
            params[name] = _like_pattern(term)
    return " and ".join(clauses), params
