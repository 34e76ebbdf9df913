"""Sources declared in a TOML file instead of a Python module.

A TOML file names the site, its URLs, the CSS selector of one listing card and,
for each record field, where in the card the value is and how to clean it. The
format is described in docs/sources.md ("Declarative sources") and shown by
``scrapers/sources/example_lianjia.toml``. Loading checks the whole file and
names the key at fault; parsing follows the same rules as the hand-written
sources: block pages, foreign pages and cards that no longer match raise.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import BlockedPage, LayoutChanged, NotAListingPage, ScrapeError
from scrapers.fontdigits import decode_font_digits
from scrapers.htmltext import (
    agent_key,
    clean_text,
    decode_html,
    page_title,
    parse_area,
    parse_floor,
    parse_int,
    parse_layout,
    parse_number,
    parse_page,
    parse_range,
)
from scrapers.record import ListingRecord, ListPage
from scrapers.source import Capabilities, Politeness, Source, rebase

log = logging.getLogger(__name__)

__all__ = [
    "BUNDLED_SOURCES",
    "DeclarativeSource",
    "FieldSpec",
    "SourceDefinitionError",
    "load_declarative_source",
]

#: The folder of TOML sources shipped with rentwatch.
BUNDLED_SOURCES = Path(__file__).parent / "sources"

#: ``selector = ":self"`` reads the card element itself (its attributes, its whole text).
SELF = ":self"

TEXT_FIELDS = (
    "listing_id", "url", "title", "district", "subdistrict", "community", "community_id",
    "rent_text", "area_text", "layout_text", "floor_text", "orientation", "listed_text",
    "listed_date", "brand",
)  # fmt: skip
NUMBER_FIELDS = ("rent", "rent_high", "area")
INT_FIELDS = ("rooms", "halls", "baths", "total_floors")
FLAG_FIELDS = ("is_promoted", "is_apartment")
#: Read, then turned into something else: the tenure word, and the agency text (hashed).
DERIVED_FIELDS = ("tenure", "agent")
KNOWN_FIELDS = TEXT_FIELDS + NUMBER_FIELDS + INT_FIELDS + FLAG_FIELDS + DERIVED_FIELDS
#: ``x_<name>`` fields land in ``record.extra[<name>]``.
EXTRA_PREFIX = "x_"
TENURES = ("whole", "shared", "building")
DEFAULT_TENURE = {"整租": "whole", "合租": "shared", "单间": "shared", "独栋": "building"}
DEFAULT_BLOCK_STATUSES = (403, 418, 429)

_TOP_KEYS = {
    "name", "title", "base_url", "hosts", "unverified", "font_digits", "max_pages",
    "start", "items", "fields", "paging", "block", "tenure", "page", "politeness",
}  # fmt: skip
_FIELD_KEYS = {"selector", "attr", "regex", "transform", "index"}
_START_KEYS = {"city", "district", "building"}
_ITEMS_KEYS = {"selector", "required"}
_PAGING_KEYS = {"next", "total_pages", "current_page", "page_url", "total_count"}
_BLOCK_KEYS = {"titles", "body", "statuses"}
_PAGE_KEYS = {"marker", "empty_text"}
_POLITENESS_KEYS = {"delay", "jitter", "concurrency"}
# Of the cards on a page, at least this share must carry every required field; fewer
# means the markup moved rather than that the site stopped showing rents.
_REQUIRED_SHARE = 0.5


class SourceDefinitionError(ScrapeError, ValueError):
    """A TOML source definition is invalid; the message names the file and the key."""


# -- transforms ------------------------------------------------------------------
def _t_strip(value: str | float | None) -> str | float | None:
    return clean_text(value) if isinstance(value, str) else value


def _t_number(value: str | float | None) -> float | None:
    return value if isinstance(value, float) else parse_number(value)


def _t_int(value: str | float | None) -> float | None:
    if isinstance(value, float):
        return float(int(value))
    n = parse_int(value)
    return float(n) if n is not None else None


def _make_split(sep: str, index: int):
    def split(value: str | float | None) -> str | None:
        if value is None:
            return None
        parts = str(value).split(sep)
        try:
            return clean_text(parts[index]) or None
        except IndexError:
            return None

    return split


def _compile_transform(spec: str, where: str):
    if spec == "strip":
        return _t_strip
    if spec == "number":
        return _t_number
    if spec == "int":
        return _t_int
    if spec.startswith("split:"):
        sep, colon, index = spec[len("split:") :].rpartition(":")
        if not colon or not sep:
            raise SourceDefinitionError(
                f"{where} transform {spec!r} must read 'split:<separator>:<index>'"
            )
        try:
            return _make_split(sep, int(index))
        except ValueError:
            raise SourceDefinitionError(
                f"{where} transform {spec!r}: index {index!r} is not a whole number"
            ) from None
    raise SourceDefinitionError(
        f"{where} transform {spec!r} is unknown; use number, int, strip or split:<sep>:<index>"
    )


@dataclass(frozen=True)
class FieldSpec:
    """Where one value sits in a card and how it is cleaned."""

    name: str
    selector: str
    attr: str | None = None
    regex: re.Pattern[str] | None = None
    transforms: tuple[Any, ...] = ()
    index: int = 0

    def node(self, root: LexborNode | LexborHTMLParser) -> LexborNode | None:
        if self.selector == SELF:
            return root if isinstance(root, LexborNode) else None
        if self.index == 0:
            return root.css_first(self.selector)
        nodes = root.css(self.selector)
        try:
            return nodes[self.index]
        except IndexError:
            return None

    def extract(
        self, root: LexborNode | LexborHTMLParser, cache: dict[tuple, str | None] | None = None
    ) -> str | float | None:
        """The field's value in ``root``. ``cache`` shares lookups between the fields of one
        card, since several fields often read the same element (Lianjia's description line)."""
        key = (self.selector, self.index, self.attr)
        if cache is not None and key in cache:
            raw = cache[key]
        else:
            node = self.node(root)
            if node is None:
                raw = None
            else:
                text = node.attributes.get(self.attr) if self.attr else node.text(deep=True)
                raw = clean_text(text) if text is not None else None
            if cache is not None:
                cache[key] = raw
        value: str | float | None = raw
        if raw and self.regex is not None:
            m = self.regex.search(raw)
            value = (m.group(1) if m.groups() else m.group(0)) if m else None
        for transform in self.transforms:
            value = transform(value)
        if value == "":
            return None
        return value


def _field_spec(name: str, table: Any, where: str) -> FieldSpec:
    if not isinstance(table, dict):
        raise SourceDefinitionError(f"{where} must be a table with at least 'selector'")
    unknown = set(table) - _FIELD_KEYS
    if unknown:
        raise SourceDefinitionError(
            f"{where} has unknown key(s) {sorted(unknown)}; allowed: {sorted(_FIELD_KEYS)}"
        )
    selector = table.get("selector")
    if not selector:
        raise SourceDefinitionError(f"{where} selector is missing")
    if not isinstance(selector, str):
        raise SourceDefinitionError(f"{where} selector must be a string")
    attr = table.get("attr")
    if attr is not None and not isinstance(attr, str):
        raise SourceDefinitionError(f"{where} attr must be a string")
    regex = None
    if "regex" in table:
        try:
            regex = re.compile(str(table["regex"]))
        except re.error as exc:
            raise SourceDefinitionError(f"{where} regex {table['regex']!r}: {exc}") from exc
    raw_transforms = table.get("transform", [])
    if isinstance(raw_transforms, str):
        raw_transforms = [raw_transforms]
    if not isinstance(raw_transforms, list) or not all(isinstance(t, str) for t in raw_transforms):
        raise SourceDefinitionError(f"{where} transform must be a string or a list of strings")
    index = table.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise SourceDefinitionError(f"{where} index must be a whole number")
    transforms = tuple(_compile_transform(t, where) for t in raw_transforms)
    return FieldSpec(name, selector, attr, regex, transforms, index)


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceDefinitionError(f"{where} must be a string or a list of strings")
    return tuple(value)


def _check_keys(table: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise SourceDefinitionError(f"{where} must be a table")
    unknown = set(table) - allowed
    if unknown:
        raise SourceDefinitionError(
            f"{where} has unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    return table


@dataclass
class Paging:
    next: FieldSpec | None = None
    total_pages: FieldSpec | None = None
    current_page: FieldSpec | None = None
    total_count: FieldSpec | None = None
    page_url: str | None = None
    #: Matches the page segment that ``page_url`` appends, so page 2's URL gives the list path.
    page_segment: re.Pattern[str] | None = None


@dataclass
class DeclarativeSource(Source):
    """A source whose selectors and rules come from a TOML file."""

    name: str  # type: ignore[misc]
    base_url_template: str
    item_selector: str
    fields: dict[str, FieldSpec]
    title: str = ""  # type: ignore[misc]
    path: str = "<memory>"
    hosts: tuple[str, ...] = ()  # type: ignore[misc]
    start: dict[str, str] = field(default_factory=lambda: {"city": "/"})
    required: tuple[str, ...] = ("listing_id", "title")
    paging: Paging = field(default_factory=Paging)
    block_titles: tuple[str, ...] = ()
    block_body: tuple[str, ...] = ()
    block_statuses: tuple[int, ...] = DEFAULT_BLOCK_STATUSES  # type: ignore[misc]
    tenure_words: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TENURE))
    page_marker: str | None = None
    empty_text: tuple[str, ...] = ()
    font_digits: bool = False
    unverified: bool = False  # type: ignore[misc]
    max_pages: int | None = None  # type: ignore[misc]
    politeness: Politeness = field(default_factory=Politeness)  # type: ignore[misc]

    def __post_init__(self) -> None:
        self.capabilities = Capabilities(  # type: ignore[misc]
            list=True,
            building_query="building" in self.start,
            district_query="district" in self.start,
        )

    # -- URLs -------------------------------------------------------------------
    def base_url(self, city: str) -> str:
        return self.base_url_template.format(city=city).rstrip("/")

    def list_urls(
        self,
        city: str,
        *,
        district: str | None = None,
        building: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        root = self.base_url(city)
        paths = []
        for kind, value in (("district", district), ("building", building)):
            if value is None:
                continue
            if kind not in self.start:
                raise ValueError(f"{self.name}: {self.path} has no [start] {kind} template")
            paths.append(self.start[kind].format(**{kind: value, "city": city}))
        if not paths:
            paths.append(self.start["city"].format(city=city))
        return [rebase(urljoin(root + "/", p), base_url) for p in paths]

    def page_url(self, list_url: str, n: int) -> str:
        """URL of page ``n`` of the list that ``list_url`` belongs to (page_url template)."""
        return self.page_urls(list_url, [n])[0]

    def page_urls(self, list_url: str, numbers: Iterable[int]) -> list[str]:
        if not self.paging.page_url:
            raise ValueError(f"{self.name}: {self.path} has no [paging] page_url template")
        parts = urlsplit(list_url)
        root = f"{parts.scheme}://{parts.netloc}"
        path = parts.path or "/"
        if not path.endswith("/"):
            path += "/"
        if self.paging.page_segment is not None:
            path = self.paging.page_segment.sub("", path)
        template = self.paging.page_url
        return [root + (path if n <= 1 else template.format(path=path, n=n)) for n in numbers]

    # -- block pages ------------------------------------------------------------
    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        text = decode_html(body)
        return self._markup_block_reason(text, LexborHTMLParser(text))

    def _markup_block_reason(self, text: str, tree: LexborHTMLParser) -> str | None:
        title = page_title(tree)
        for marker in self.block_titles:
            if marker in title:
                return f"page title {title!r} is a verification page"
        if self.block_body and tree.css_first(self.item_selector) is None:
            for marker in self.block_body:
                if marker in text:
                    return f"page shows {marker!r} and no listings"
        return None

    # -- parsing ------------------------------------------------------------------
    def parse_list(self, body: bytes, url: str) -> ListPage:
        text, tree = parse_page(body, url, self.name)
        if self.font_digits:
            text = decode_font_digits(text)
            tree = LexborHTMLParser(text)
        reason = self._markup_block_reason(text, tree)
        if reason:
            raise BlockedPage(f"{self.name}: {reason}", url)

        cards = tree.css(self.item_selector)
        total_count = self._page_int(self.paging.total_count, tree)
        current = self._page_int(self.paging.current_page, tree)
        total_pages = self._page_int(self.paging.total_pages, tree)
        if not cards:
            self._no_cards(tree, text, url, total_count)
            return ListPage([], url, total_count or 0, current, total_pages)

        records: list[ListingRecord] = []
        missing: dict[str, int] = {}
        for card in cards:
            record, lacking = self._card(card, url)
            if record is None:
                missing[lacking] = missing.get(lacking, 0) + 1
            else:
                records.append(record)
        skipped = len(cards) - len(records)
        if skipped > len(cards) * _REQUIRED_SHARE:
            worst = max(missing, key=lambda k: missing[k])
            spec = self.fields[worst]
            raise LayoutChanged(
                f"{self.name}: {missing[worst]} of {len(cards)} cards have no {worst} at "
                f"{spec.selector!r}",
                url,
                selector=spec.selector,
            )
        if skipped:
            log.warning(
                "%s: skipped %d of %d cards lacking a required field (%s) on %s",
                self.name, skipped, len(cards), ", ".join(sorted(missing)), url,
            )  # fmt: skip
        return ListPage(records, url, total_count, current, total_pages, self._next(tree, url))

    def _no_cards(
        self, tree: LexborHTMLParser, text: str, url: str, total_count: int | None
    ) -> None:
        """Return when the page is this site's honest empty result, else raise."""
        if self.page_marker and tree.css_first(self.page_marker) is None:
            raise NotAListingPage(
                f"{self.name}: not a list page of this source (no {self.page_marker!r}; "
                f"title {page_title(tree)!r})",
                url,
            )
        if total_count == 0 or any(t in text for t in self.empty_text):
            return
        raise LayoutChanged(
            f"{self.name}: no listing matched {self.item_selector!r}",
            url,
            selector=self.item_selector,
        )

    def _page_int(self, spec: FieldSpec | None, tree: LexborHTMLParser) -> int | None:
        if spec is None:
            return None
        value = spec.extract(tree)
        if isinstance(value, float):
            return int(value)
        return parse_int(value)

    def _next(self, tree: LexborHTMLParser, url: str) -> list[str]:
        paging = self.paging
        if paging.next is not None:
            node = paging.next.node(tree)
            href = node.attributes.get(paging.next.attr or "href") if node is not None else None
            return [urljoin(url, href)] if href else []
        if paging.total_pages is not None and paging.page_url:
            current = self._page_int(paging.current_page, tree) or 1
            total = self._page_int(paging.total_pages, tree) or 1
            if current != 1:
                return []  # page 1 already listed every page
            last = min(total, self.max_pages or total)
            return self.page_urls(url, range(2, last + 1))
        return []

    def _card(self, card: LexborNode, page_url: str) -> tuple[ListingRecord | None, str]:
        cache: dict[tuple, str | None] = {}
        values: dict[str, str | float | None] = {
            name: spec.extract(card, cache) for name, spec in self.fields.items()
        }
        for name in self.required:
            if values.get(name) in (None, ""):
                return None, name
        record = ListingRecord(
            source=self.name,
            listing_id=_as_text(values.get("listing_id")) or "",
            url=urljoin(page_url, _as_text(values.get("url")) or ""),
            title=_as_text(values.get("title")) or "",
        )
        for name, value in values.items():
            if value is None or name in ("listing_id", "url", "title"):
                continue
            if name.startswith(EXTRA_PREFIX):
                record.extra[name[len(EXTRA_PREFIX) :]] = value
            elif name in TEXT_FIELDS:
                setattr(record, name, _as_text(value))
            elif name in INT_FIELDS:
                setattr(record, name, int(value) if isinstance(value, float) else parse_int(value))
            elif name in FLAG_FIELDS:
                setattr(record, name, True)
        self._numbers(record, values)
        self._derived(record, values)
        return record, ""

    def _numbers(self, record: ListingRecord, values: dict[str, Any]) -> None:
        rent = values.get("rent")
        if isinstance(rent, str):
            record.rent, high = parse_range(rent)
            record.rent_high = record.rent_high or high
            record.rent_text = record.rent_text or rent
        elif isinstance(rent, float):
            record.rent = rent
        high = values.get("rent_high")
        if high is not None:
            record.rent_high = high if isinstance(high, float) else parse_number(high)
        area = values.get("area")
        if isinstance(area, str):
            record.area = parse_area(area) or parse_number(area)
            record.area_text = record.area_text or area
        elif isinstance(area, float):
            record.area = area

    def _derived(self, record: ListingRecord, values: dict[str, Any]) -> None:
        if record.layout_text and record.rooms is None:
            record.rooms, record.halls, record.baths = parse_layout(record.layout_text)
        if record.floor_text and record.floor_band is None:
            record.floor_band, record.total_floors = parse_floor(record.floor_text)
        tenure_text = _as_text(values.get("tenure")) or record.title
        for word, tenure in self.tenure_words.items():
            if word in tenure_text:
                record.tenure = tenure  # type: ignore[assignment]
                break
        if record.tenure == "building":
            record.is_apartment = True
        agent = _as_text(values.get("agent"))
        if agent:
            record.agent_key = agent_key(agent)


def _as_text(value: str | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


# -- loading ---------------------------------------------------------------------
def load_declarative_source(path: str | Path) -> DeclarativeSource:
    """Read and check one TOML source definition. Raises SourceDefinitionError."""
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceDefinitionError(f"{where}: cannot read the file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SourceDefinitionError(f"{where}: not valid TOML ({exc})") from exc
    return source_from_dict(data, where)


def source_from_dict(data: dict[str, Any], where: str = "<memory>") -> DeclarativeSource:
    """Build a source from an already-parsed TOML document (``where`` names it in errors)."""
    _check_keys(data, _TOP_KEYS, f"{where}: the top level")

    def required_str(key: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise SourceDefinitionError(f"{where}: {key} is missing (a non-empty string)")
        return value.strip()

    name = required_str("name")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise SourceDefinitionError(
            f"{where}: name {name!r} must be lowercase letters, digits, '-' or '_'"
        )
    base_url = required_str("base_url")
    if not base_url.startswith(("http://", "https://")):
        raise SourceDefinitionError(f"{where}: base_url {base_url!r} must start with http(s)://")
    hosts = _str_list(data.get("hosts", [urlsplit(base_url).netloc]), f"{where}: hosts")

    start = _check_keys(data.get("start", {"city": "/"}), _START_KEYS, f"{where}: [start]")
    if "city" not in start:
        raise SourceDefinitionError(f'{where}: [start] city is missing (e.g. "/zufang/")')
    for key, template in start.items():
        if not isinstance(template, str) or not template.startswith("/"):
            raise SourceDefinitionError(f"{where}: [start] {key} must be a path starting with /")
        if key != "city" and "{" + key + "}" not in template:
            raise SourceDefinitionError(
                f"{where}: [start] {key} {template!r} must contain {{{key}}}"
            )

    items = _check_keys(data.get("items"), _ITEMS_KEYS, f"{where}: [items]")
    item_selector = items.get("selector")
    if not isinstance(item_selector, str) or not item_selector.strip():
        raise SourceDefinitionError(f"{where}: [items] selector is missing")

    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict) or not raw_fields:
        raise SourceDefinitionError(f"{where}: [fields] is missing (one table per record field)")
    fields: dict[str, FieldSpec] = {}
    for fname, table in raw_fields.items():
        if fname not in KNOWN_FIELDS and not fname.startswith(EXTRA_PREFIX):
            raise SourceDefinitionError(
                f"{where}: [fields.{fname}] is not a record field; known: "
                f"{', '.join(KNOWN_FIELDS)} (or x_<name> for extra)"
            )
        fields[fname] = _field_spec(fname, table, f"{where}: [fields.{fname}]")
    for needed in ("listing_id", "title"):
        if needed not in fields:
            raise SourceDefinitionError(f"{where}: [fields.{needed}] is missing")

    required = _str_list(
        items.get("required", ["listing_id", "title"]), f"{where}: [items] required"
    )
    for rname in required:
        if rname not in fields:
            raise SourceDefinitionError(
                f"{where}: [items] required names {rname!r}, which has no [fields.{rname}]"
            )
    required = tuple(dict.fromkeys(("listing_id", "title", *required)))

    paging = _paging(data.get("paging", {}), where)

    block = _check_keys(data.get("block", {}), _BLOCK_KEYS, f"{where}: [block]")
    statuses = block.get("statuses", list(DEFAULT_BLOCK_STATUSES))
    if not isinstance(statuses, list) or not all(isinstance(s, int) for s in statuses):
        raise SourceDefinitionError(f"{where}: [block] statuses must be a list of HTTP codes")

    tenure = data.get("tenure", DEFAULT_TENURE)
    if not isinstance(tenure, dict):
        raise SourceDefinitionError(f"{where}: [tenure] must map words to {TENURES}")
    for word, value in tenure.items():
        if value not in TENURES:
            raise SourceDefinitionError(
                f"{where}: [tenure] {word!r} = {value!r}; use one of {', '.join(TENURES)}"
            )

    page = _check_keys(data.get("page", {}), _PAGE_KEYS, f"{where}: [page]")
    politeness_table = _check_keys(
        data.get("politeness", {}), _POLITENESS_KEYS, f"{where}: [politeness]"
    )
    try:
        politeness = Politeness(**politeness_table)
    except TypeError as exc:
        raise SourceDefinitionError(f"{where}: [politeness] {exc}") from exc

    max_pages = data.get("max_pages")
    if max_pages is not None and (not isinstance(max_pages, int) or max_pages < 1):
        raise SourceDefinitionError(f"{where}: max_pages must be a positive whole number")
    for flag in ("font_digits", "unverified"):
        if not isinstance(data.get(flag, False), bool):
            raise SourceDefinitionError(f"{where}: {flag} must be true or false")

    return DeclarativeSource(
        name=name,
        title=str(data.get("title", name)),
        base_url_template=base_url,
        item_selector=item_selector.strip(),
        fields=fields,
        path=where,
        hosts=hosts,
        start=dict(start),
        required=required,
        paging=paging,
        block_titles=_str_list(block.get("titles", []), f"{where}: [block] titles"),
        block_body=_str_list(block.get("body", []), f"{where}: [block] body"),
        block_statuses=tuple(statuses),
        tenure_words=dict(tenure),
        page_marker=page.get("marker"),
        empty_text=_str_list(page.get("empty_text", []), f"{where}: [page] empty_text"),
        font_digits=bool(data.get("font_digits", False)),
        unverified=bool(data.get("unverified", False)),
        max_pages=max_pages,
        politeness=politeness,
    )


def _paging(table: Any, where: str) -> Paging:
    table = _check_keys(table, _PAGING_KEYS, f"{where}: [paging]")
    paging = Paging()
    if "next" in table:
        nxt = table["next"]
        spec = {"selector": nxt, "attr": "href"} if isinstance(nxt, str) else nxt
        paging.next = _field_spec("next", spec, f"{where}: [paging] next")
    for key in ("total_pages", "current_page", "total_count"):
        if key in table:
            setattr(paging, key, _field_spec(key, table[key], f"{where}: [paging] {key}"))
    if "page_url" in table:
        template = table["page_url"]
        if not isinstance(template, str) or "{n}" not in template or "{path}" not in template:
            raise SourceDefinitionError(
                f'{where}: [paging] page_url must contain {{path}} and {{n}}, e.g. "{{path}}pg{{n}}/"'
            )
        paging.page_url = template
        suffix = template.split("{path}", 1)[1]
        pattern = re.escape(suffix).replace(re.escape("{n}"), r"\d+") + "$"
        paging.page_segment = re.compile(pattern)
    if paging.next is not None and paging.total_pages is not None:
        raise SourceDefinitionError(
            f"{where}: [paging] has both next and total_pages; choose one rule"
        )
    if paging.total_pages is not None and not paging.page_url:
        raise SourceDefinitionError(
            f'{where}: [paging] total_pages needs a page_url template such as "{{path}}pg{{n}}/"'
        )
    return paging
