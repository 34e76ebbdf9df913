"""The registry of sources: every site module registers its Source class here."""

from __future__ import annotations

import importlib

from .errors import UnknownSource
from .source import Source

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


def register(source: Source) -> None:
    """Add a source built at run time (a declarative TOML source, a test's source)."""
    _extra[source.name] = source


def names() -> list[str]:
    return sorted(set(_BUILTIN) | set(_extra))


def get_source(name: str) -> Source:
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
