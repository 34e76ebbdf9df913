"""Normalization: rents per month, areas, layouts, floors, and the bait/error flags.

Pure functions; the snapshot applies them to what is stored.

Trimming rule (Boeing & Waddell 2017 dropped rents below the 0.2th and above the 99.8th
percentile city-wide; rentwatch makes it per building, where the spread is much tighter):
an ad is flagged and left out of units and medians when
- its area is outside ``area_min``..``area_max`` ㎡ (5..500) — ``area_out_of_range``;
- its monthly rent is below ``city_rent_floor`` (300 元) or above ``city_rent_ceiling``
  (200,000 元) — ``rent_out_of_range``;
- its rent per ㎡ is below median/``spread`` or above median*``spread`` (``spread`` = 2) of the
  building's own whole-flat ads with rent and area that day, when the building has at
  least ``min_peers`` (3) such ads — ``bait_low`` / ``rent_high``. Honest ads of one
  building differ per ㎡ by plan, floor and landlord by much less; a bait asks a quarter
  to a third of the price (why 2 and not 2.5: docs/units-history.md).

The numbers are fields of MarketParams (pipeline.units.params), passed in.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pipeline.units.params import DEFAULT_PARAMS, MarketParams

#: Per-period multipliers to 元 per month.
_PERIODS: tuple[tuple[re.Pattern[str], str, float], ...] = (
    (re.compile(r"/\s*(?:天|日)|每天|每日|元天|日租"), "day", 30.0),
    (re.compile(r"/\s*(?:周|星期)|每周"), "week", 30.0 / 7.0),
    (re.compile(r"/\s*季|每季|季付价"), "quarter", 1.0 / 3.0),
    (re.compile(r"/\s*半年"), "halfyear", 1.0 / 6.0),
    (re.compile(r"/\s*年|每年|年租"), "year", 1.0 / 12.0),
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*[-~至到]\s*(\d+(?:\.\d+)?)")
_NEGOTIABLE = ("面议", "议价", "电议", "待定")


@dataclass(frozen=True, slots=True)
class Rent:
    low: float | None
    high: float | None
    period: str  # month | day | week | quarter | halfyear | year | unknown

    @property
    def monthly(self) -> float | None:
        """One monthly figure: the middle of a range, else the value."""
        if self.low is None:
            return None
        if self.high is None:
            return self.low
        return round((self.low + self.high) / 2, 2)


def period_factor(text: str | None) -> tuple[str, float]:
    """(period name, multiplier to a month) of a rent text; month (1.0) when unsaid."""
    if not text or "月" in text:
        return "month", 1.0  # the common case, decided without the patterns
    folded = unicodedata.normalize("NFKC", text)
    for pattern, name, factor in _PERIODS:
        if pattern.search(folded):
            return name, factor
    return "month", 1.0


def parse_rent(text: str | None) -> Rent:
    """Monthly rent in 元 from "2300元/月", "2300-2500元/月", "120元/天", "9000元/季", "面议".

    "万" multiplies by 10,000 ("1.2万/月"). Unknown or negotiable gives low None.
    """
    folded = unicodedata.normalize("NFKC", text or "").replace(",", "").replace(" ", "")
    if not folded or any(w in folded for w in _NEGOTIABLE):
        return Rent(None, None, "unknown")
    period, factor = period_factor(folded)
    scale = 10_000.0 if "万" in folded else 1.0
    m = _RANGE.search(folded)
    if m:
        low, high = float(m.group(1)), float(m.group(2))
        if high < low:
            low, high = high, low
        return Rent(round(low * scale * factor, 2), round(high * scale * factor, 2), period)
    n = _NUMBER.search(folded)
    if not n:
        return Rent(None, None, "unknown")
    value = float(n.group())
    if value <= 0:
        return Rent(None, None, "unknown")
    return Rent(round(value * scale * factor, 2), None, period)


def monthly_rent(
    observed: float | None, rent_text: str | None, rent_high: float | None = None
) -> float | None:
    """The monthly rent of one observation.

    ``observed`` is what the parser stored for the day: the low end of a range, in the
    page's own period when the parser did not convert it. When the text names another
    period than a month and the stored number is the text's own number, it is converted;
    a range gives its middle.
    """
    if observed is None or observed <= 0:
        return None
    value = observed
    if rent_high and rent_high > observed:
        value = (observed + rent_high) / 2
    _, factor = period_factor(rent_text)
    if factor != 1.0:
        raw = _NUMBER.search(unicodedata.normalize("NFKC", rent_text or "").replace(",", ""))
        if raw and abs(float(raw.group()) - observed) < 0.5:
            value *= factor
    return round(value, 2)


_ORIENT_ORDER = "东南西北"


def normalize_orientation(text: str | None) -> str | None:
    """A canonical orientation: the compass words in a fixed order, "南 北" -> "南北"."""
    if not text:
        return None
    return _canonical_orientation(text)


# The sites write orientations from a vocabulary of a few dozen strings; each is worked
# out once (NFKC and the sort cost more than parsing the rest of a card).
@lru_cache(maxsize=1024)
def _canonical_orientation(text: str) -> str | None:
    words = re.findall(r"东南|东北|西南|西北|[东南西北]", unicodedata.normalize("NFKC", text))
    if not words:
        return None
    return " ".join(sorted(dict.fromkeys(words), key=lambda w: [_ORIENT_ORDER.index(c) for c in w]))


def normalize_area(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None
    return round(float(value), 1)


@dataclass(slots=True)
class Ad:
    """What the flags need of one ad on one day."""

    key: int
    rent: float | None
    area: float | None
    whole: bool


def flag_ads(ads: Iterable[Ad], params: MarketParams = DEFAULT_PARAMS) -> dict[int, list[str]]:
    """Flags of one building's ads on one day (key -> flags, only ads with a flag)."""
    p = params
    ads = list(ads)
    flags: dict[int, list[str]] = {}
    for ad in ads:
        if ad.area is not None and not (p.area_min <= ad.area <= p.area_max):
            flags.setdefault(ad.key, []).append("area_out_of_range")
        if ad.rent is not None and not (p.city_rent_floor <= ad.rent <= p.city_rent_ceiling):
            flags.setdefault(ad.key, []).append("rent_out_of_range")
    per_m2 = {
        ad.key: ad.rent / ad.area
        for ad in ads
        if ad.whole and ad.rent and ad.area and ad.key not in flags
    }
    if len(per_m2) >= p.min_peers:
        median = statistics.median(per_m2.values())
        for key, value in per_m2.items():
            if value < median / p.spread:
                flags.setdefault(key, []).append("bait_low")
            elif value > median * p.spread:
                flags.setdefault(key, []).append("rent_high")
    return flags
