"""The units model's value types: an ad as a day's snapshot sees it, a unit (one flat, or
one room of a shared flat) with its ads, and the link that puts an ad in a unit.

Plain values: no database, no parameters read here (a method that needs one takes it).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass(slots=True, eq=False)
class AdState:
    """One ad as the snapshot of a day sees it."""

    id: int
    building_id: int
    unit_id: int | None
    source: str
    agent: str | None  # "source:agent_key", or None when the page named no advertiser
    tenure: str  # whole | shared
    layout: str | None
    area: float | None
    floor_band: str | None
    total_floors: int | None
    orientation: str | None
    first_seen: str
    rents: dict[str, float | None] = field(default_factory=dict)  # window day -> monthly rent
    flags: list[str] = field(default_factory=list)  # flags on the snapshot day
    subdistrict: str | None = None
    #: The day the site created the ad, when its id says (Source.created_on), else None.
    created: str | None = None
    #: The key the page showed when the day's fit judged it a label many advertisers
    #: share (``agent`` is then None): it still tells a repost, an ad of that label
    #: vanished and put up again with the same look and rent.
    label: str | None = None

    @property
    def poster(self) -> str | None:
        """Who put the ad up, as far as a repost goes: the advertiser, or the label."""
        return self.agent or self.label

    @property
    def key(self) -> tuple:
        return (self.tenure, self.layout, self.floor_band, self.total_floors, self.orientation)

    def seen_on(self, day: str) -> bool:
        return day in self.rents

    def last_seen_until(self, day: str) -> str | None:
        days = [d for d in self.rents if d <= day]
        return max(days) if days else None

    def cut_on(self, day: str, cut_min: float) -> bool:
        """Seen on ``day`` at a rent more than ``cut_min`` (a share) below its previous
        sighting's."""
        today = self.rents.get(day)
        if not today:
            return False
        earlier = [d for d in self.rents if d < day and self.rents[d]]
        if not earlier:
            return False
        before = self.rents[max(earlier)]
        return before is not None and today < before * (1 - cut_min)

    def rent_until(self, day: str) -> float | None:
        days = sorted((d for d in self.rents if d <= day and self.rents[d]), reverse=True)
        return self.rents[days[0]] if days else None


@dataclass(slots=True, eq=False)
class UnitState:
    id: int | None
    building_id: int
    tenure: str
    layout: str | None
    area: float | None
    floor_band: str | None
    total_floors: int | None
    orientation: str | None
    first_seen: str
    ads: list[AdState] = field(default_factory=list)
    #: (first_seen, advertiser) of the unit's ads not seen in the window (seen before it)
    outside: list[tuple[str, str | None]] = field(default_factory=list)
    reason: str | None = None
    status: str | None = None
    gone_on: str | None = None

    @classmethod
    def of_ad(cls, ad: AdState) -> UnitState:
        """A new unit holding ``ad`` alone, with the ad's look."""
        return cls(
            id=None,
            building_id=ad.building_id,
            tenure=ad.tenure,
            layout=ad.layout,
            area=ad.area,
            floor_band=ad.floor_band,
            total_floors=ad.total_floors,
            orientation=ad.orientation,
            first_seen=ad.first_seen,
            ads=[ad],
        )

    @property
    def key(self) -> tuple:
        return (self.tenure, self.layout, self.floor_band, self.total_floors, self.orientation)

    def unflagged_rents(self, day: str) -> list[float]:
        """The latest rents up to ``day`` of the unit's unflagged ads."""
        return [r for a in self.ads if not a.flags and (r := a.rent_until(day))]

    def rent_on(self, day: str) -> float | None:
        """Median of the unit's unflagged ads' latest rents up to ``day``."""
        rents = self.unflagged_rents(day)
        if not rents:
            rents = [r for a in self.ads if (r := a.rent_until(day))]
        return statistics.median(rents) if rents else None

    def last_seen_until(self, day: str) -> str | None:
        days = [d for a in self.ads if (d := a.last_seen_until(day))]
        return max(days) if days else None


@dataclass(slots=True)
class Link:
    ad: AdState
    unit: UnitState
    kind: str  # first | match | repost | unseen_repost
    reason: str
    score: float
