"""Building resolution: which registry building a listing's 小区 name means.

Order, first hit wins:
1. the normalized name (see ``pipeline.buildings.names``) equals the normalized registry name or a
   person's alias (origin import/manual) in the same city — preferring the same district;
2. the site's own 小区 id is in ``building_sources``;
3. the normalized name equals a guessed alias (auto/fuzzy) — an earlier guess is reused;
4. rapidfuzz ``ratio`` >= FUZZY_THRESHOLD against the verified buildings of the same city
   and district, when exactly one building is best (the guess is stored as a 'fuzzy' alias);
5. otherwise a new building with status 'unverified' and an 'auto' alias, listed by
   ``rentwatch buildings unmatched`` for a person to confirm or point elsewhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlite_utils
from rapidfuzz import fuzz

from db import resolution as sql
from db.transactions import write_transaction
from pipeline.buildings.names import display_name, name_key

#: Minimum rapidfuzz ratio (0-100) between normalized keys for a fuzzy match.
FUZZY_THRESHOLD = 85.0


@dataclass(slots=True)
class ResolveReport:
    listings: int = 0
    by_name: int = 0
    by_site_id: int = 0
    by_guess: int = 0
    by_fuzzy: int = 0
    new_buildings: int = 0
    unnamed: int = 0
    created: list[int] = field(default_factory=list)


class _Index:
    """The registry's names in memory: key -> building ids, split by trust."""

    def __init__(self, names: list[sql.BuildingName]) -> None:
        self.trusted: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.guessed: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.district_of: dict[int, str] = {}
        self.verified_keys: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
        for n in names:
            self.add(n)

    def add(self, n: sql.BuildingName) -> None:
        key = name_key(n.name, n.city)
        if not key:
            return
        self.district_of[n.building_id] = n.district
        if n.origin in ("name", *sql.TRUSTED_ORIGINS) and n.status != "unverified":
            self.trusted[(n.city, key)].add(n.building_id)
            if n.status == "verified":
                self.verified_keys[(n.city, n.district)].append((key, n.building_id))
        elif n.status != "merged":
            self.guessed[(n.city, key)].add(n.building_id)

    def pick(self, ids: set[int], district: str | None) -> int | None:
        if not ids:
            return None
        if len(ids) == 1:
            return next(iter(ids))
        same = sorted(
            i for i in ids if district and _same_district(self.district_of.get(i), district)
        )
        if len(same) == 1:
            return same[0]
        return None  # one name, several buildings, no way to tell: not a guess we make

    def lookup(self, table: dict, city: str, key: str, district: str | None) -> int | None:
        ids = set(table.get((city, key), set())) | set(table.get(("", key), set()))
        return self.pick(ids, district)

    def fuzzy(self, city: str, district: str | None, key: str) -> int | None:
        candidates = [
            (k, b)
            for (c, d), items in self.verified_keys.items()
            if c in (city, "") and _same_district(d, district)
            for k, b in items
        ]
        scored = sorted(
            ((fuzz.ratio(key, k), b) for k, b in candidates), key=lambda t: (-t[0], t[1])
        )
        if not scored or scored[0][0] < FUZZY_THRESHOLD:
            return None
        if len(scored) > 1 and scored[1][0] == scored[0][0] and scored[1][1] != scored[0][1]:
            return None
        return scored[0][1]


def _same_district(a: str | None, b: str | None) -> bool:
    """Districts compare by their first two characters: 滨江 == 滨江区, 上城 == 上城区."""
    if not a or not b:
        return False
    a, b = display_name(a).removesuffix("区"), display_name(b).removesuffix("区")
    return a == b or a.startswith(b) or b.startswith(a)


def resolve_listings(db: sqlite_utils.Database, *, only_unresolved: bool = True) -> ResolveReport:
    """Set ``listings.building_id`` for listings (by default only those without one). One transaction."""
    report = ResolveReport()
    todo = sql.unresolved_listings(db, only_unresolved=only_unresolved)
    if not todo:
        return report
    with write_transaction(db):
        _fill_missing_alias_keys(db)
        index = _Index(sql.building_names(db))
        site_ids = sql.site_id_map(db)
        pairs: list[tuple[int, int]] = []
        for listing in todo:
            report.listings += 1
            building_id = _resolve_one(db, index, site_ids, listing, report)
            if building_id is not None:
                pairs.append((building_id, listing.id))
        sql.set_listing_buildings(db, pairs)
    return report


def _resolve_one(
    db: sqlite_utils.Database,
    index: _Index,
    site_ids: dict[tuple[str, str], int],
    listing: sql.UnresolvedListing,
    report: ResolveReport,
) -> int | None:
    city = listing.city
    key = name_key(listing.community, city)
    if key:
        found = index.lookup(index.trusted, city, key, listing.district)
        if found is not None:
            report.by_name += 1
            return found
    if listing.community_id:
        found = site_ids.get((listing.source, str(listing.community_id).lstrip("c")))
        if found is not None:
            report.by_site_id += 1
            return found
    if not key:
        report.unnamed += 1
        return None
    found = index.lookup(index.guessed, city, key, listing.district)
    if found is not None:
        report.by_guess += 1
        return found
    raw = display_name(listing.community)
    found = index.fuzzy(city, listing.district, key)
    if found is not None:
        report.by_fuzzy += 1
        sql.add_alias(db, found, raw, origin="fuzzy", alias_key=key)
        index.guessed[(city, key)].add(found)
        return found
    building_id = sql.create_unverified_building(
        db,
        name=raw,
        city=city,
        district=listing.district,
        subdistrict=listing.subdistrict,
        alias_key=key,
    )
    report.new_buildings += 1
    report.created.append(building_id)
    index.guessed[(city, key)].add(building_id)
    index.district_of[building_id] = listing.district or ""
    return building_id


def _fill_missing_alias_keys(db: sqlite_utils.Database) -> None:
    sql.fill_alias_keys(
        db,
        [
            (name_key(alias, city), alias_id)
            for alias_id, alias, city in sql.aliases_without_key(db)
        ],
    )


def suggest_match(db: sqlite_utils.Database, building_id: int) -> tuple[int, str, float] | None:
    """The verified building an unverified one most resembles (id, name, score), for a person."""
    place = sql.building_place(db, building_id)
    if place is None:
        return None
    name, city, district = place
    key = name_key(name, city)
    names = sql.building_names(db)
    registry_names = {n.building_id: n.name for n in names if n.origin == "name"}
    best: tuple[int, str, float] | None = None
    for n in names:
        if n.status != "verified" or n.city not in (city, "") or n.building_id == building_id:
            continue
        score = fuzz.ratio(key, name_key(n.name, n.city))
        if district and _same_district(n.district, district):
            score += 5  # the same district is evidence too
        if best is None or score > best[2]:
            best = (n.building_id, registry_names[n.building_id], round(min(score, 100.0), 1))
    return best
