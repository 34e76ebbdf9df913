"""Reading many nodes of a parsed page at once, by node id.

A list parser that reads a few hundred nodes per page spends more on selectolax's
per-node Python objects and method calls (a ``LexborNode`` for every match, a call for
every text and attribute) than on Lexbor's own work behind them. A ``TreeReads`` names
nodes by id (selectolax's ``LexborNode.mem_id``) and reads whole lists of them per call.

Two implementations give the same results:

- ``CompiledReads`` calls Lexbor directly from the small C extension
  ``scrapers/_lexbor_read.c``, built by ``pip install`` where a C compiler is present. It
  looks up Lexbor's functions in selectolax's own extension, so both read one tree.
- ``SelectolaxReads`` does the same through selectolax's Python API, where the extension
  is missing (``COMPILED_MISSING`` says why) or when asked for.

Ids are addresses inside the tree: a ``TreeReads`` holds the node it was made from, and
with it the tree, for as long as the ids are in use.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

from selectolax.lexbor import LexborHTMLParser, LexborNode

try:
    from scrapers import _lexbor_read  # type: ignore[attr-defined]  # C extension, no stub
except ImportError as exc:  # not built (no C compiler), or selectolax without the symbols
    _lexbor_read = None
    COMPILED_MISSING: str | None = f"scrapers._lexbor_read is not available: {exc}"
else:
    COMPILED_MISSING = None

#: Set to 1 to read through selectolax even where the extension is built.
NO_COMPILED_ENV = "RENTWATCH_NO_COMPILED"

Clean = Callable[[str], str]
#: A selector, whether every match is wanted (else the first), and optionally the index
#: of an earlier first-match field to search under instead of the item
#: (``des.css("a")`` where des is that field's node).
FieldSpec = tuple[str, bool] | tuple[str, bool, int]
#: Per item, per field: the first match's id (0 for none), or the list of all matches.
Row = list


# A compound the C matcher takes: an optional tag and at most one class.
_COMPOUND = re.compile(r"([a-zA-Z][-a-zA-Z0-9]*)?(?:\.(-?[_a-zA-Z][-_a-zA-Z0-9]*))?")
_COMBINATOR = re.compile(r"\s*>\s*|\s+")
Chain = tuple[tuple[str | None, str | None, bool], ...]


@lru_cache(maxsize=256)
def simple_chain(selector: str) -> Chain | None:
    """The selector as the C matcher's chain: (tag, class, joined by '>') per compound;
    None for anything beyond types, one class each, and descendant/child combinators."""
    compounds: list[tuple[str | None, str | None, bool]] = []
    rest = selector.strip()
    child = False
    while rest:
        m = _COMPOUND.match(rest)
        if m is None or not m.group(0):
            return None
        tag, cls = m.group(1), m.group(2)
        compounds.append((tag.lower() if tag else None, cls, child))
        rest = rest[m.end() :]
        if not rest:
            break
        sep = _COMBINATOR.match(rest)
        if sep is None:
            return None
        child = ">" in sep.group(0)
        rest = rest[sep.end() :]
    return tuple(compounds) if compounds else None


class TreeReads(Protocol):
    """Bulk reads over one tree; every list result has one entry per id asked for.

    Ids come from this reader's answers (and the items given to extract); an id of 0
    (a field not found) reads as None, or 0 for tag and parent ids.
    """

    root: int

    def select(self, root: int, selector: str) -> list[int]:
        """Ids of the nodes at or under ``root`` the selector list matches, in document order."""

    def tag_ids(self, ids: list[int]) -> list[int]: ...

    def parent_ids(self, ids: list[int]) -> list[int]:
        """The parents' ids, 0 for a node without one."""

    def texts(self, ids: list[int], clean: Clean | None = None) -> list[str | None]:
        """Each node's text content (``text_lexbor()``), passed through ``clean`` if given."""

    def attributes(self, ids: list[int], name: str) -> list[str | None]: ...

    def remove(self, ids: list[int]) -> None:
        """Cut the nodes out of the tree (``decompose()``); their own text stays readable."""

    def extract(self, items: Sequence[LexborNode], fields: Sequence[FieldSpec]) -> list[Row] | None:
        """Per item, per field: ``item.css_first(selector)``'s id (0 for none), or with
        all=True the ids of ``item.css(selector)`` (``node.css…`` under a scope field's
        node, none without it). None when the page leaves a doubt (a class that matches
        only if case is ignored): read the items another way."""


# Lexbor numbers the standard tags the same in every document (a few hundred ids);
# any other tag gets a number of its document's own, so it is compared by name.
_STATIC_TAG_IDS = 4096


@lru_cache(maxsize=256)
def _static_tag_id(tag: str | None) -> int:
    """Lexbor's id of a standard tag, or 0 (compare by name)."""
    if tag is None:
        return 0
    found = LexborHTMLParser(f"<{tag}></{tag}>").css_first(tag)
    tag_id = found.tag_id if found is not None else 0
    return tag_id if 0 < tag_id < _STATIC_TAG_IDS else 0


class CompiledReads:
    def __init__(self, root: LexborNode) -> None:
        if _lexbor_read is None:
            raise RuntimeError(COMPILED_MISSING)
        self._root_node = root  # keeps the tree, and so every id, alive
        self.root = root.mem_id
        module = _lexbor_read
        self.select = module.select
        self.tag_ids = module.tag_ids
        self.parent_ids = module.parent_ids
        self.texts = module.texts
        self.attributes = module.attributes
        self.remove = module.remove

    def extract(self, items: Sequence[LexborNode], fields: Sequence[FieldSpec]) -> list[Row] | None:
        chains = [simple_chain(field[0]) for field in fields]
        if any(chain is None for chain in chains):
            return SelectolaxReads(self._root_node).extract(items, fields)
        specs = [
            (tuple((*compound, _static_tag_id(compound[0])) for compound in chain), *field[1:])
            for chain, field in zip(chains, fields, strict=True)
            if chain is not None  # none is, as checked above; said again for the type
        ]
        return _lexbor_read.extract([item.mem_id for item in items], specs)


class SelectolaxReads:
    def __init__(self, root: LexborNode) -> None:
        self.root = root.mem_id
        self._nodes: dict[int, LexborNode] = {self.root: root}

    def _ids(self, nodes: list[LexborNode]) -> list[int]:
        known = self._nodes
        out = []
        for node in nodes:
            node_id = node.mem_id
            known[node_id] = node
            out.append(node_id)
        return out

    def select(self, root: int, selector: str) -> list[int]:
        return self._ids(self._nodes[root].css(selector))

    def tag_ids(self, ids: list[int]) -> list[int]:
        return [self._nodes[i].tag_id if i else 0 for i in ids]

    def parent_ids(self, ids: list[int]) -> list[int]:
        out = []
        for i in ids:
            parent = self._nodes[i].parent if i else None
            out.append(self._ids([parent])[0] if parent is not None else 0)
        return out

    def texts(self, ids: list[int], clean: Clean | None = None) -> list[str | None]:
        raw = [self._nodes[i].text_lexbor() if i else None for i in ids]
        return raw if clean is None else [clean(t) if t is not None else None for t in raw]

    def attributes(self, ids: list[int], name: str) -> list[str | None]:
        return [self._nodes[i].attrs.get(name) if i else None for i in ids]

    def remove(self, ids: list[int]) -> None:
        for i in ids:
            self._nodes[i].decompose()

    def extract(self, items: Sequence[LexborNode], fields: Sequence[FieldSpec]) -> list[Row] | None:
        self._ids(list(items))
        rows = []
        for item in items:
            row: Row = []
            for selector, every, *scope in fields:
                under = self._nodes.get(row[scope[0]]) if scope else item
                if under is None:
                    row.append([] if every else 0)
                elif every:
                    row.append(self._ids(under.css(selector)))
                else:
                    found = under.css_first(selector)
                    row.append(self._ids([found])[0] if found is not None else 0)
            rows.append(row)
        return rows


def tree_reads(root: LexborNode, *, compiled: bool | None = None) -> TreeReads:
    """Bulk reads over ``root``'s tree: compiled where built (unless ``RENTWATCH_NO_COMPILED``
    is set), else through selectolax; ``compiled`` forces one or the other."""
    if compiled is None:
        compiled = _lexbor_read is not None and not os.environ.get(NO_COMPILED_ENV)
    return CompiledReads(root) if compiled else SelectolaxReads(root)
