"""The registry of sources: every site module registers its Source class here."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from scrapers.declarative import (
    DeclarativeSource,
    SourceDefinitionError,
    load_declarative_source,
)
from scrapers.errors import UnknownSource
from scrapers.source import Source

#: name -> "module:Class". Modules load lazily so that one broken site never breaks the rest.
_BUILTIN: dict[str, str] = {
    "lianjia": "scrapers.lianjia:LianjiaSource",
    "beike": "scrapers.lianjia:BeikeSource",
    "58": "scrapers.fiftyeight:FiftyEightSource",
    "ziroom": "scrapers.ziroom:ZiroomSource",
    "anjuke": "scrapers.anjuke:AnjukeSource",
    "fang": "scrapers.fang:FangSource",
}

_extra: dict[str, Source] = {}

#: Sources declared in TOML that ship with rentwatch (scrapers/sources/*.toml).
BUNDLED_DECLARATIVE = Path(__file__).parent / "sources"
_declared_loaded = False


def _load_declared() -> None:
    """Register the bundled TOML sources and those in $RENTWATCH_SOURCES, once."""
    global _declared_loaded
    if _declared_loaded:
        return
    _declared_loaded = True
    folders = [BUNDLED_DECLARATIVE]
    folders += [Path(p) for p in os.environ.get("RENTWATCH_SOURCES", "").split(os.pathsep) if p]
    for folder in folders:
        add_declarative(folder)


def add_declarative(path: str | Path) -> list[Source]:
    """Register the TOML source at ``path`` (a file, or every *.toml in a folder)."""
    path = Path(path)
    if path.is_dir():
        return list(load_declarative_sources(path))
    source = load_declarative_source(path)
    if source.name in _BUILTIN:
        raise SourceDefinitionError(
            f"{path}: name {source.name!r} is a built-in source; choose another name"
        )
    register(source)
    return [source]


def register(source: Source) -> None:
    """Add a source built at run time (a declarative TOML source, a test's source)."""
    _extra[source.name] = source


def load_declarative_sources(
    folder: str | Path, *, register: bool = True
) -> list[DeclarativeSource]:
    """Load every ``*.toml`` in ``folder`` (sorted) and, by default, register each source.

    A name already used by a built-in source, or by two files, is an error.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SourceDefinitionError(f"{folder}: not a folder of TOML source definitions")
    sources: list[DeclarativeSource] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.toml")):
        source = load_declarative_source(path)
        if source.name in seen:
            raise SourceDefinitionError(
                f"{path}: name {source.name!r} is already used by {seen[source.name]}"
            )
        seen[source.name] = str(path)
        if source.name in _BUILTIN:
            raise SourceDefinitionError(
                f"{path}: name {source.name!r} is a built-in source; choose another name"
            )
        sources.append(source)
    if register:
        for source in sources:
            _extra[source.name] = source
    return sources


def names() -> list[str]:
    _load_declared()
    return sorted(set(_BUILTIN) | set(_extra))


def get_source(name: str) -> Source:
    _load_declared()
    if name in _extra:
        return _extra[name]
    target = _BUILTIN.get(name)
    if target is None:
        raise UnknownSource(name, names())
    module_name, class_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls()


def all_sources() -> list[Source]:
    return [get_source(n) for n in names()]
