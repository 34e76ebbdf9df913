"""The storage boundary and the layering, checked on the source (AST, nothing imported).

Layering, bottom to top; a package imports only from its own layer and the ones below:

    scrapers   the sites, the fetch layer, the plain record types; imports no other layer
    db         every SQL statement and the schema; imports only ``scrapers.record`` (the
               plain record type it stores), nothing of pipeline or rentwatch
    pipeline   the steps (collect, buildings, units, snapshot); reads and writes through db
    rentwatch  the application a person runs (CLI, scheduler, Datasette layer, demo)

Checked here:
- SQL is executed only in ``db/`` (``.execute``/``.executemany``/``.executescript``/
  ``.query`` calls), and no other module holds a raw SQL statement in a string, except
  ``rentwatch/datasette/``, whose canned queries are Datasette's configuration.
- ``db/`` imports nothing above it, at any level (an import inside a function counts).
- ``scrapers/`` imports nothing of db, pipeline or rentwatch.
- The project's modules import each other without a cycle (function-level imports count;
  a dynamic ``importlib.import_module`` of a site module in the registry does not).

``tests/`` and ``bench/`` are outside the boundary: they set up and inspect databases.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("scrapers", "db", "pipeline", "rentwatch")
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
#: sqlite_utils' table writes, on ``db.table(name)`` or ``db[name]``.
TABLE_WRITES = {"insert", "insert_all", "upsert", "upsert_all", "update", "delete", "delete_where"}
#: A statement, not prose: a verb at the start and the keyword that verb needs.
SQL_TEXT = re.compile(
    r"^\s*(select\b.*\bfrom\b|insert\s+(or\s+\w+\s+)?into\b|update\s+\w+\s+set\b|"
    r"delete\s+from\b|create\s+(unique\s+)?(table|index|view|trigger)\b|drop\s+(table|index|view)\b|"
    r"alter\s+table\b|pragma\s+\w+)",
    re.IGNORECASE | re.DOTALL,
)
#: Datasette configuration: canned and dashboard queries are SQL text by nature.
SQL_TEXT_ALLOWED = ("rentwatch/datasette/",)
#: What each layer must not import (prefixes of module names).
FORBIDDEN = {
    "scrapers": ("db", "pipeline", "rentwatch"),
    "db": ("pipeline", "rentwatch", "scrapers"),
}
#: The one thing from below that db may import: the record type it stores.
DB_MAY_IMPORT = ("scrapers.record",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        _module_name(p): p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
        if ".venv" not in p.parts
    }


def _in_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imports_of(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Project modules ``module`` imports, anywhere in its source (function bodies too)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if _in_project(a.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            if not _in_project(base):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)  # a submodule, or a name in ``base``
    out.discard(module)
    return out


def _is_table(node: ast.expr) -> bool:
    """``x.table(...)``, or ``db[...]`` / ``conn[...]``: a sqlite_utils table."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr == "table"
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("db", "conn", "database")
    )


def sql_outside_db(tree: ast.AST, rel: str) -> list[str]:
    """Where ``rel`` (a path under the project) runs SQL or spells out a statement."""
    found = []
    docstrings = {
        id(n.body[0].value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and n.body
        and isinstance(n.body[0], ast.Expr)
        and isinstance(n.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f"{rel}:{node.lineno}: .{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in TABLE_WRITES
            and _is_table(node.func.value)
        ):
            found.append(f"{rel}:{node.lineno}: a table's .{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and not rel.startswith(SQL_TEXT_ALLOWED)
            and SQL_TEXT.match(node.value)
        ):
            found.append(f"{rel}:{node.lineno}: SQL text {node.value[:40]!r}")
    return found


def layer_violations(module: str, imported: set[str]) -> list[str]:
    forbidden = FORBIDDEN.get(module.split(".")[0], ())
    bad = []
    for name in sorted(imported):
        if module.startswith("db") and name.startswith(DB_MAY_IMPORT):
            continue
        if name.split(".")[0] in forbidden:
            bad.append(f"{module} imports {name}")
    return bad


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (iterative DFS, white/grey/black)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def _parse_all() -> dict[str, tuple[Path, ast.Module]]:
    return {m: (p, ast.parse(p.read_text(encoding="utf-8"))) for m, p in project_modules().items()}


def import_graph(parsed: dict[str, tuple[Path, ast.Module]]) -> dict[str, set[str]]:
    known = set(parsed)
    return {
        m: imports_of(tree, m, p.name == "__init__.py", known) & known
        for m, (p, tree) in parsed.items()
    }


# -- the project as it is ------------------------------------------------------------------


def test_sql_runs_only_in_db():
    found = []
    for module, (path, tree) in _parse_all().items():
        if module.split(".")[0] != "db":
            found += sql_outside_db(tree, path.relative_to(ROOT).as_posix())
    assert found == [], "SQL outside db/ (move it into a db/ function):\n" + "\n".join(found)


def test_layers_import_only_downwards():
    parsed = _parse_all()
    graph = import_graph(parsed)
    bad = [v for m in sorted(graph) for v in layer_violations(m, graph[m])]
    assert bad == [], "\n".join(bad)


def test_no_import_cycle():
    parsed = _parse_all()
    assert len(parsed) > 50  # the walk found the project, not an empty folder
    cycle = find_cycle(import_graph(parsed))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


# -- each check can fail -------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "def f(db):\n    db.execute('UPDATE runs SET kind = ? WHERE id = ?', [k, i])\n",
        "rows = db.query(sql)\n",
        "conn.executemany(SQL, rows)\n",
        "SQL = '''\n  insert or ignore into pages (url) values (?)'''\n",
        "x = f('SELECT name FROM buildings WHERE id = ?')\n",
        "db['demo_market'].insert({'seed': 7})\n",
        "db.table('runs').update(7, {'kind': 'ingest'})\n",
    ],
)
def test_sql_check_catches(source):
    assert sql_outside_db(ast.parse(source), "pipeline/x.py")


@pytest.mark.parametrize(
    "source",
    [
        '"""Reads what SELECT would, from the archive."""\n',
        "select_one = pick('select a building')\n",
        "label = 'update the registry, then snapshot'\n",
        "encoding['tooltip'].insert(1, field)\n",
    ],
)
def test_sql_check_leaves_prose_alone(source):
    assert sql_outside_db(ast.parse(source), "pipeline/x.py") == []


def test_datasette_configuration_may_hold_sql_text():
    tree = ast.parse("Q = 'select b.name from buildings b'\n")
    assert sql_outside_db(tree, "rentwatch/datasette/queries.py") == []
    assert sql_outside_db(tree, "rentwatch/cli/x.py")


KNOWN = {"db", "db.pages", "scrapers.record", "scrapers.fetch", "pipeline.dates", "rentwatch.cli"}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (
            "db.x",
            "def f():\n    from pipeline.dates import parse_day\n",
            "db.x imports pipeline.dates",
        ),
        ("db.x", "import rentwatch.cli\n", "db.x imports rentwatch.cli"),
        ("db.x", "from scrapers import fetch\n", "db.x imports scrapers.fetch"),
        (
            "scrapers.fetch.x",
            "from db.pages import PageArchive\n",
            "scrapers.fetch.x imports db.pages",
        ),
        ("db.x", "from . import pages\n", None),  # relative: db.pages, its own layer
    ],
)
def test_layer_check_catches(module, source, expected):
    imported = imports_of(ast.parse(source), module, False, KNOWN)
    violations = layer_violations(module, imported)
    assert violations == ([expected] if expected else [])


def test_layer_check_allows_what_is_allowed():
    source = "from scrapers.record import ListingRecord\nfrom db.pages import PageArchive\n"
    assert layer_violations("db.x", imports_of(ast.parse(source), "db.x", False, KNOWN)) == []
    source = "from db.pages import PageArchive\nfrom scrapers.record import ListPage\n"
    assert (
        layer_violations("pipeline.x", imports_of(ast.parse(source), "pipeline.x", False, KNOWN))
        == []
    )


def test_relative_imports_resolve():
    # In a package's __init__, "." is the package; in a module, it is the module's package.
    assert imports_of(ast.parse("from . import pages\n"), "db", True, {"db.pages"}) == {"db.pages"}
    tree = ast.parse("from .record import X\nfrom ..db import pages\n")
    assert imports_of(tree, "scrapers.fetch.client", False, {"scrapers.fetch.record"}) == {
        "scrapers.fetch.record",
        "scrapers.db",
    }


def test_cycle_check_catches():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_cycle_check_sees_an_import_inside_a_function():
    known = {"scrapers.registry", "scrapers.declarative"}
    graph = {
        "scrapers.registry": imports_of(
            ast.parse("def load():\n    from scrapers.declarative import load_one\n"),
            "scrapers.registry",
            False,
            known,
        ),
        "scrapers.declarative": imports_of(
            ast.parse("from scrapers import registry\n"), "scrapers.declarative", False, known
        ),
    }
    assert find_cycle(graph) == [
        "scrapers.declarative",
        "scrapers.registry",
        "scrapers.declarative",
    ]
