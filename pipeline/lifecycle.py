"""Lifecycle of a unit: when it is live, when it is gone, how long it has been on offer.

- A unit is *seen* on a day when one of its ads was observed that day.
- A lingering ad does not keep a unit alive for ever: a unit is *lingering* on a day
  when other advertisers' ads of it have vanished (the last of them LINGER_DAYS or more
  days before), at least as many advertisers have removed it as still show it, and every
  ad still seen was already up before that sibling vanished (no fresh ad). An advertiser
  whose old ad vanished but who shows the unit under a new id (a repost) has not removed
  it. A lingering unit is not counted, nor in the medians: its flat was most likely let.
- A unit is *live* on a day when it is seen and not lingering. ``units`` counts live units.
- A unit is *gone* on the day that makes GRACE_DAYS successful observation days of its
  building without it being live, counted once in ``gone_units`` of that day; until
  then a returning ad continues the same unit (a page missed one day is not a letting).
- Days on market: the day minus the unit's first day seen.
- A price cut: one of the unit's ads is seen at a lower rent than at its previous sighting.
"""

from __future__ import annotations

from .dedup import UnitState, days_between

LINGER_DAYS = 3
GRACE_DAYS = 3
#: A rent counts as cut when it falls by more than this fraction.
CUT_MIN = 0.005


def seen_on(unit: UnitState, day: str) -> bool:
    return any(a.seen_on(day) for a in unit.ads)


def lingering(unit: UnitState, day: str, window_start: str) -> bool:
    seen = [a for a in unit.ads if a.seen_on(day)]
    if not seen:
        return False
    # An advertiser with an ad up today replaced its old one (a repost): not a removal.
    active = {a.agent for a in seen if a.agent}
    before_window = _day_before(window_start)
    # advertiser -> the day its last ad of the unit was seen
    vanished: dict[str, str] = {}
    for ad in unit.ads:
        if ad.seen_on(day) or ad.first_seen > day or (ad.agent and ad.agent in active):
            continue
        # seen only before the window: it vanished before the window started
        last = ad.last_seen_until(day) or before_window
        who = ad.agent or f"?{ad.id}"
        vanished[who] = max(vanished.get(who, last), last)
    for i, (first, agent) in enumerate(unit.outside):
        if first <= day and not (agent and agent in active):
            vanished.setdefault(agent or f"?outside{i}", before_window)
    if not vanished:
        return False
    latest = max(vanished.values())
    if days_between(latest, day) < LINGER_DAYS:
        return False
    # A let flat loses most of its ads within a day or two, and only a few linger; when
    # most advertisers still show the unit, the ones that left stopped for another reason
    # (mandate lost, ad expired) or advertised a look-alike flat merged into this unit.
    if len(vanished) < len({a.agent or f"?{a.id}" for a in seen}):
        return False
    return all(a.first_seen <= latest for a in seen)


def live_on(unit: UnitState, day: str, window_start: str) -> bool:
    return seen_on(unit, day) and not lingering(unit, day, window_start)


def gone_on(unit: UnitState, observed_days: list[str], window_start: str) -> bool:
    """True when the last GRACE_DAYS observed days (ending with the snapshot day) are the
    first GRACE_DAYS days without the unit live: it was live on the observed day before them."""
    if len(observed_days) < GRACE_DAYS + 1:
        return False
    before, after = observed_days[-GRACE_DAYS - 1], observed_days[-GRACE_DAYS:]
    if not live_on(unit, before, window_start):
        return False
    return not any(live_on(unit, d, window_start) for d in after)


def price_cut(unit: UnitState, day: str) -> bool:
    for ad in unit.ads:
        today = ad.rents.get(day)
        if not today:
            continue
        earlier = sorted(d for d in ad.rents if d < day and ad.rents[d])
        if earlier and today < ad.rents[earlier[-1]] * (1 - CUT_MIN):
            return True
    return False


def days_on_market(unit: UnitState, day: str) -> int:
    return days_between(unit.first_seen, day)


def _day_before(day: str) -> str:
    from datetime import date, timedelta

    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()
