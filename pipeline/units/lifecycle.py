"""Lifecycle of a unit: when it is live, when it is gone, how long it has been on offer.

- A unit is *seen* on a day when one of its ads was observed that day.
- A lingering ad does not keep a unit alive for ever: a unit is *lingering* on a day
  when other advertisers' ads of it have vanished (the last of them LINGER_DAYS or more
  days before; LINGER_DAYS_COMPLETE when that day's crawl of its source collected every
  ad the site listed, so that the ad is gone from the site, not skipped by the crawl),
  at least as many advertisers have removed it as still show it, and every ad still
  seen was already up before that sibling vanished (no fresh ad). An advertiser
  whose old ad vanished but who shows the unit under a new id (a repost) has not removed
  it. A lingering unit is not counted, nor in the medians: its flat was most likely let.
- Leftover ads of a let flat are assumed to come down within a week. A lingering unit
  whose ads are still up LEFTOVER_DAYS after the others vanished is a look-alike flat
  that had been merged into the unit while both were on offer, and it is live again,
  unless one of its ads fits another unit on offer (same look, area and rent within the
  dedup tolerances, no live ad of the same advertiser): then it is an ad of that flat,
  already counted.
- A unit is *live* on a day when it is seen and not lingering (or lingering and back as
  such a look-alike flat). ``units`` counts live units.
- A unit is *gone* on the day that makes GRACE_DAYS successful observation days of its
  building without it being live, counted once in ``gone_units`` of that day; until
  then a returning ad continues the same unit (a page missed one day is not a letting).
- Days on market: the day minus the unit's first day seen.
- A price cut: one of the unit's ads is seen at a lower rent than at its previous sighting,
  and none was in the CUT_FOLLOW_DAYS days before (agencies follow a cut a day or two
  apart: one cut of the flat's price is counted once).
"""

from __future__ import annotations

from pipeline.dates import shift_day
from pipeline.units.dedup import CUT_FOLLOW_DAYS, AdState, UnitState, days_between, fits_unit

LINGER_DAYS = 2
#: On a building whose crawl that day collected every ad the site listed, an ad missing
#: from it is gone from the site, not skipped while the list shifted: one day is enough.
LINGER_DAYS_COMPLETE = 1
#: A lingering unit's ads still up this many days after its other ads vanished advertise
#: a look-alike flat of their own (a let flat's leftover ads come down within a week).
#: An ad last seen before the snapshot's window counts as vanished WINDOW_DAYS (8) ago,
#: so the window must reach back at least this far.
LEFTOVER_DAYS = 7
GRACE_DAYS = 3


def seen_on(unit: UnitState, day: str) -> bool:
    return any(a.seen_on(day) for a in unit.ads)


def _removed_since(
    unit: UnitState, day: str, window_start: str, complete: frozenset[str] = frozenset()
) -> int | None:
    """Days since a lingering unit's other advertisers removed it; None when not lingering.

    ``complete``: the sources whose crawl of the building on ``day`` collected every ad
    the site listed; an ad of theirs missing that day counts as removed after
    LINGER_DAYS_COMPLETE days instead of LINGER_DAYS.
    """
    seen = [a for a in unit.ads if a.seen_on(day)]
    if not seen:
        return None
    # An advertiser with an ad up today replaced its old one (a repost): not a removal.
    active = {a.agent for a in seen if a.agent}
    before_window = shift_day(window_start, -1)
    # advertiser -> the day its last ad of the unit was seen
    vanished: dict[str, str] = {}
    # the sources of the ads that vanished on each of those days
    sources_on: dict[str, set[str]] = {}
    for ad in unit.ads:
        if ad.seen_on(day) or ad.first_seen > day or (ad.agent and ad.agent in active):
            continue
        # seen only before the window: it vanished before the window started
        last = ad.last_seen_until(day) or before_window
        who = ad.agent or f"?{ad.id}"
        vanished[who] = max(vanished.get(who, last), last)
        sources_on.setdefault(last, set()).add(ad.source)
    for i, (first, agent) in enumerate(unit.outside):
        if first <= day and not (agent and agent in active):
            vanished.setdefault(agent or f"?outside{i}", before_window)
    if not vanished:
        return None
    latest = max(vanished.values())
    since = days_between(latest, day)
    sure = latest in sources_on and sources_on[latest] <= complete
    if since < (LINGER_DAYS_COMPLETE if sure else LINGER_DAYS):
        return None
    # A let flat loses most of its ads within a day or two, and only a few linger; when
    # most advertisers still show the unit, the ones that left stopped for another reason
    # (mandate lost, ad expired) or advertised a look-alike flat merged into this unit.
    if len(vanished) < len({a.agent or f"?{a.id}" for a in seen}):
        return None
    return since if all(a.first_seen <= latest for a in seen) else None


class BuildingLife:
    """Which of one building's units are live, day by day.

    Whether a lingering unit is a look-alike flat of its own depends on the building's
    other units, so that question is answered for the whole building at once, and only
    on a day with such a unit. Answers are kept per day: ``gone_on`` asks about the days
    before.
    """

    def __init__(
        self,
        units: list[UnitState],
        window_start: str,
        complete: dict[str, frozenset[str]] | None = None,
    ) -> None:
        self.units = units
        self.window_start = window_start
        #: day -> sources whose crawl of the building that day missed no ad (see
        #: _removed_since); days not in it count as incomplete.
        self.complete = complete or {}
        self._state: dict[tuple[int, str], tuple[bool, int | None]] = {}
        self._back: dict[str, set[int]] = {}

    def _seen_and_removed(self, unit: UnitState, day: str) -> tuple[bool, int | None]:
        key = (id(unit), day)
        if key not in self._state:
            seen = seen_on(unit, day)
            self._state[key] = (
                seen,
                _removed_since(unit, day, self.window_start, self.complete.get(day, frozenset()))
                if seen
                else None,
            )
        return self._state[key]

    def live_on(self, unit: UnitState, day: str) -> bool:
        seen, since = self._seen_and_removed(unit, day)
        if not seen or since is None:
            return seen
        if since < LEFTOVER_DAYS:
            return False
        if day not in self._back:
            self._back[day] = self._leftovers_back(day)
        return id(unit) in self._back[day]

    def _leftovers_back(self, day: str) -> set[int]:
        """The lingering units of ``day`` that are look-alike flats of their own."""
        live: list[UnitState] = []
        leftovers: list[UnitState] = []
        for unit in self.units:
            seen, since = self._seen_and_removed(unit, day)
            if seen and since is None:
                live.append(unit)
            elif seen and since is not None and since >= LEFTOVER_DAYS:
                leftovers.append(unit)
        # Oldest first, each checked against the units on offer and the ones already back,
        # so two look-alike leftovers of one flat (its ads were spread over two merged
        # units) bring it back once.
        back: set[int] = set()
        for unit in sorted(leftovers, key=lambda u: (u.first_seen, u.id or 0)):
            ads = [a for a in unit.ads if a.seen_on(day)]
            if not any(_fits_any(a, unit, live, day) for a in ads):
                live.append(unit)
                back.add(id(unit))
        return back

    def gone_on(self, unit: UnitState, observed_days: list[str]) -> bool:
        """True when the last GRACE_DAYS observed days (ending with the snapshot day) are the
        first GRACE_DAYS days without the unit live: it was live on the observed day before them."""
        if len(observed_days) < GRACE_DAYS + 1:
            return False
        before, after = observed_days[-GRACE_DAYS - 1], observed_days[-GRACE_DAYS:]
        if not self.live_on(unit, before):
            return False
        return not any(self.live_on(unit, d) for d in after)


def _fits_any(ad: AdState, unit: UnitState, others: list[UnitState], day: str) -> bool:
    return any(o is not unit and o.key == unit.key and fits_unit(ad, o, day) for o in others)


def price_cut(unit: UnitState, day: str) -> bool:
    """The unit's price was cut on ``day``: one of its ads is cheaper than at its previous
    sighting, and none of them was cut on the CUT_FOLLOW_DAYS days before (the agencies of
    one flat follow its landlord's cut a day or two apart: one cut, counted once)."""
    if not any(ad.cut_on(day) for ad in unit.ads):
        return False
    before = [shift_day(day, -n) for n in range(1, CUT_FOLLOW_DAYS + 1)]
    return not any(ad.cut_on(d) for ad in unit.ads for d in before)


def days_on_market(unit: UnitState, day: str) -> int:
    return days_between(unit.first_seen, day)
