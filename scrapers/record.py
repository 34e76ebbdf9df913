"""The plain records that pass from a source's parser to the pipeline.

A record keeps the site's own words (``*_text`` fields) beside the values parsed
from them, so that normalization can improve later without fetching again.
Nothing in here depends on the database.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta, timezone
from typing import Any, Literal

#: The sites' clock (China has no daylight saving): dates in records are days in this zone.
SHANGHAI = timezone(timedelta(hours=8))

Tenure = Literal["whole", "shared", "building"]
"""整租 (a whole flat), 合租/单间 (a room in a shared flat), 独栋 (a brand-apartment building)."""


@dataclass(slots=True)
class ListingRecord:
    source: str
    listing_id: str
    url: str
    title: str
    tenure: Tenure | None = None
    #: True for brand-apartment cards (whole buildings offering rooms), kept apart from flats.
    is_apartment: bool = False
    #: True for promoted cards (Lianjia data-ad_type 40/50): still a real listing.
    is_promoted: bool = False
    district: str | None = None  # 区
    subdistrict: str | None = None  # 板块
    community: str | None = None  # 小区 name as the site spells it
    community_id: str | None = None  # the site's own 小区 id (Lianjia resblock id, …)
    rent_text: str | None = None
    rent: float | None = None  # 元 per month; the low end of a range
    rent_high: float | None = None  # the high end of a range, else None
    area_text: str | None = None
    area: float | None = None  # ㎡
    layout_text: str | None = None
    rooms: int | None = None
    halls: int | None = None
    baths: int | None = None
    floor_text: str | None = None
    floor_band: str | None = None  # 低楼层 / 中楼层 / 高楼层 / 地下室
    total_floors: int | None = None
    orientation: str | None = None
    #: A non-personal key for the advertiser (brand or agency), never a name or phone.
    agent_key: str | None = None
    brand: str | None = None
    listed_text: str | None = None  # "3天前维护", "房源上架时间 2019-08-31"
    listed_date: str | None = None  # ISO date when the page gives one exactly
    #: The day (ISO, Asia/Shanghai) the site created the ad, when its id says so
    #: (Source.created_on); the de-duplication uses it. None where the id carries no time.
    created_on: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: What was suspect in the page's values, as "field:kind" ("rent:negative",
    #: "community:mojibake"): the value itself was not kept (scrapers.suspect).
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class ListPage:
    """What one list page says: its records and where the list goes on."""

    records: list[ListingRecord]
    url: str
    #: The site's own count of matching listings, when the page shows it.
    total_count: int | None = None
    current_page: int | None = None
    total_pages: int | None = None
    #: Absolute URLs (or paths) of the following pages the page links to.
    next_urls: list[str] = field(default_factory=list)
