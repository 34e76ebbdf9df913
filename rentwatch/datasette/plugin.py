"""rentwatch's Datasette plugin: the same site under ``datasette rentwatch.db``,
``rentwatch serve`` and ``datasette publish``.

Registered through the ``datasette`` entry point in pyproject.toml. It acts only on
databases that have rentwatch's tables; any other database Datasette serves beside them
is left exactly as Datasette shows it.

What it reads from a database (which building the dashboards open on, whether the data is
simulated, which columns the search index holds) is read once at startup.
"""

from __future__ import annotations

import sqlite3
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datasette import hookimpl
from datasette.filters import FilterArguments

from db import site as db_site
from rentwatch.datasette import queries, search
from rentwatch.datasette.metadata import (
    PREFERRED_AREA,
    PREFERRED_BUILDING,
    SiteFacts,
    build_metadata,
)

if TYPE_CHECKING:
    from datasette.app import Datasette

#: Tables that together mark a database as rentwatch's.
SCHEMA_TABLES = frozenset(
    {"_migrations", "buildings", "listings", "building_daily", "district_daily"}
)

#: On a table page: each column's description becomes its header's tooltip, and the long
#: list of descriptions Datasette prints above the rows folds away, so the first screen
#: shows data.
COLUMN_SCRIPT = """
document.querySelectorAll("th[data-column-description]").forEach(function (th) {
  th.title = th.dataset.columnDescription;
});
var rwList = document.querySelector("dl.column-descriptions");
if (rwList) {
  var rwFold = document.createElement("details");
  rwFold.className = "column-descriptions-fold";
  var rwSummary = document.createElement("summary");
  rwSummary.textContent = "What the columns mean (also on hover over a column's name)";
  rwList.replaceWith(rwFold);
  rwFold.append(rwSummary, rwList);
}
"""


#: The plugin's configuration key (metadata ``plugins.rentwatch``) that serves archived
#: page bodies; ``rentwatch serve --with-pages`` sets it.
PAGE_BODIES_KEY = "page_bodies"


@dataclass(frozen=True)
class _Site:
    metadata: dict[str, Any]
    search_columns: tuple[str, ...]


_sites: weakref.WeakKeyDictionary[Datasette, dict[str, _Site]] = weakref.WeakKeyDictionary()


def rentwatch_databases(datasette: Datasette) -> list[str]:
    """Names of the databases the plugin serves as rentwatch's, in Datasette's order."""
    return list(_sites.get(datasette, {}))


async def _read_site(name: str, database: Any) -> _Site:
    building = await database.execute_fn(
        lambda conn: db_site.default_building(conn, PREFERRED_BUILDING)
    )
    area = await database.execute_fn(lambda conn: db_site.default_area(conn, PREFERRED_AREA))
    simulation = await database.execute_fn(db_site.simulation)
    columns = await database.table_columns("listings_fts")
    facts = SiteFacts(building=building, area=area, simulation=simulation)
    return _Site(build_metadata(name, facts), tuple(columns))


@hookimpl
def startup(datasette: Datasette) -> Any:
    async def inner() -> None:
        found: dict[str, _Site] = {}
        for name, database in datasette.databases.items():
            if set(await database.table_names()) >= SCHEMA_TABLES:
                found[name] = await _read_site(name, database)
        _sites[datasette] = found

    return inner


def _merged(sites: dict[str, _Site], with_plugins: bool) -> dict[str, Any]:
    """One metadata dict for every rentwatch database; a second one's dashboards get its name."""
    merged: dict[str, Any] = {}
    dashboards: dict[str, Any] = {}
    for i, (name, site) in enumerate(sites.items()):
        meta = site.metadata
        if i == 0:
            merged = {k: v for k, v in meta.items() if k not in ("databases", "plugins")}
            merged["databases"] = {}
        merged["databases"].update(meta["databases"])
        if with_plugins:
            for slug, board in meta["plugins"]["datasette-dashboards"].items():
                if i:
                    slug = f"{slug}-{name}"
                    board = {**board, "title": f"{board['title']} ({name})"}
                dashboards[slug] = board
    if with_plugins:
        merged["plugins"] = {"datasette-dashboards": dashboards}
    return merged


@hookimpl
def get_metadata(datasette: Datasette, key: str | None, database: str | None, table: Any) -> Any:
    sites = _sites.get(datasette)
    if not sites:
        return None
    # Fresh dicts each time: Datasette merges local metadata into what a hook returns and
    # datasette-dashboards rewrites its chart queries in place. Called some 200 times for a
    # table page, so only the dicts are copied (copy.deepcopy took half of the page's time).
    return _fresh(_merged(sites, with_plugins=key in (None, "plugins")))


def _fresh(value: Any) -> Any:
    """``value`` with every dict in it copied; strings and lists are shared, nobody edits them."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


@hookimpl
def canned_queries(datasette: Datasette, database: str, actor: Any) -> Any:
    if database not in _sites.get(datasette, {}):
        return None
    return {name: dict(query) for name, query in queries.CANNED_QUERIES.items()}


# trylast: Datasette's own search filter, called after, would say the table has no search.
@hookimpl(trylast=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Datasette) -> Any:
    site = _sites.get(datasette, {}).get(database)
    if site is None or table != "listings":
        return None
    text = request.args.get("_search", "").strip()
    context = {"supports_search": True, "search": text}
    found = search.search_clause(text, indexed=site.search_columns)
    if found is None:
        return FilterArguments([], extra_context=context)
    where, params = found
    return FilterArguments([where], params, [f'search matches "{text}"'], context)


@hookimpl
def extra_body_script(
    template: str, database: str | None, table: str | None, view_name: str, datasette: Datasette
) -> Any:
    if view_name == "table" and database in _sites.get(datasette, {}):
        return COLUMN_SCRIPT
    return None


def serves_page_bodies(datasette: Datasette) -> bool:
    return bool((datasette.plugin_config("rentwatch") or {}).get(PAGE_BODIES_KEY))


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Datasette) -> None:
    # Archived bodies are whole third-party pages, fetched for reparsing, not for showing:
    # a table page, a canned query or any SQL a visitor writes reads page_bodies.body as
    # NULL unless the operator asked for them. An authorizer, not hidden tables, because
    # ad-hoc SQL would reach a hidden table.
    if not serves_page_bodies(datasette):
        conn.set_authorizer(_without_page_bodies)


def _without_page_bodies(
    action: int, arg1: str | None, arg2: str | None, schema: str | None, source: str | None
) -> int:
    if action == sqlite3.SQLITE_READ and arg1 == "page_bodies" and arg2 == "body":
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK
