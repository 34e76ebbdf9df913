"""De-duplication: which ads advertise the same flat (a *unit*).

Ads of one flat agree on the building, tenure, layout, floor band and total floors and
orientation, show an area within about 2 ㎡ of one another (each agency rounds the flat's
area its own way, up to about 1 ㎡ off) and a rent within about 6 % (each asks a few %
around the landlord's price), and appear within a few days of each other. Agreement is
not identity: a tower repeats one plan on every floor, so many empty flats look alike.
The evidence against a merge is therefore as important as the evidence for it:

- one advertiser (source + agent key) never lists one flat twice at the same time, so a
  new ad never joins a unit that already has a live ad of the same advertiser;
- a flat's ads appear together: an ad joins a unit only if it went up within ``join_days``
  of the unit's first ad, and the unit is still live;
- a *repost* (an advertiser's ad vanishes and the same advertiser lists the same
  attributes at the same rent under a new id within ``repost_days``) is the same flat,
  whatever else;
- on the first day a building is watched, every ad already up appears at once, many of
  them reposted under new ids at any time before: each set of look-alike ads is then
  split into flats at once, by likelihood (pipeline.units.grouping), instead of ad by ad;
- a repost whose old ad vanished the day before the building was first watched cannot be
  seen as one: on the next day, an ad left alone (or with one other) after the day's
  matching, of an advertiser new to a look-alike unit that was already up on the first
  day and put up more than ``join_days`` apart from that unit's ads, joins it as an *unseen
  repost*.

On other days a repost joins the unit whose vanished ad it copies best (rent, area, days
between); the day's other new ads of each set of look-alikes are weighed together, with
the young units they fit, by the same likelihood (pipeline.units.grouping.place): each joins
one of those units or makes a flat of its own with some of the others. A new unit of one
or two ads left after that may then be unseen reposts. A set of more than ``joint_max`` new
ads, or over the search budget, is weighed in runs of rent neighbours, each with the units
the runs before it made; an ad whose run is still over budget is weighed alone, and only
one over budget alone goes to the unit with the smallest rent gap plus time gap.
Assignment is incremental and stable: an ad keeps its unit once given, so re-running a
day gives the same units. The tolerances are fields of MarketParams
(pipeline.units.params), passed in; the value types are in pipeline.units.model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

from pipeline.dates import days_between, shift_day
from pipeline.units.grouping import Evidence, partition, place
from pipeline.units.model import AdState, Link, UnitState
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

__all__ = [
    "AdState",
    "Link",
    "UnitState",
    "area_close",
    "assign_units",
    "attribute_clusters",
    "days_between",
    "describe",
    "fits_unit",
    "units_low",
]


def area_close(a: float | None, b: float | None, p: MarketParams) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= p.area_tol + p.area_rel * max(a, b)


def _areas_close(ads: list[AdState], p: MarketParams) -> Callable[[int, int], bool]:
    """Whether ads ``i`` and ``j`` of ``ads`` are close enough in area to be one flat."""
    return lambda i, j: area_close(ads[i].area, ads[j].area, p)


def fits_unit(ad: AdState, unit: UnitState, day: str, p: MarketParams) -> bool:
    """The ad could be one of the unit's flat's ads, whenever it appeared: same look (the
    caller compares keys), area and rent within the tolerances, and the unit has no other
    ad of the same advertiser up on ``day``."""
    if not area_close(ad.area, unit.area, p) or _advertiser_shows(ad, unit, day):
        return False
    gap = _rent_gap(ad, unit, day)[2]
    return gap is None or gap <= p.rent_tol


def _advertiser_shows(ad: AdState, unit: UnitState, day: str) -> bool:
    """Whether the ad's advertiser has another ad of the unit up on ``day``."""
    return bool(ad.agent) and any(
        a.agent == ad.agent and a.seen_on(day) for a in unit.ads if a is not ad
    )


def _rent_gap(
    ad: AdState, unit: UnitState, day: str
) -> tuple[float | None, float | None, float | None]:
    """(ad's rent, unit's rent, their gap as a fraction of the unit's; None if either is unknown)."""
    rent, unit_rent = ad.rent_until(day), unit.rent_on(day)
    return rent, unit_rent, abs(rent - unit_rent) / unit_rent if rent and unit_rent else None


def _within_span(ad: AdState, unit: UnitState, day: str, p: MarketParams) -> bool:
    """Whether the ad's rent keeps all the unit's unflagged ads within ``rent_span`` of one
    another: the ads of one flat scatter around one price, so every one of them, not only
    the unit's median, lies close to the others."""
    rent = ad.rent_until(day)
    if not rent:
        return True
    rents = [*unit.unflagged_rents(day), rent]
    return max(rents) / min(rents) - 1 <= p.rent_span


def describe(unit: UnitState) -> str:
    floors = f"({unit.total_floors}层)" if unit.total_floors else ""
    area = f"{unit.area:g}㎡" if unit.area is not None else "area ?"
    return (
        f"{unit.layout or 'layout ?'}/{unit.floor_band or 'floor ?'}{floors}/"
        f"{unit.orientation or 'orientation ?'}/{area}"
    )


def _short(agent: str | None) -> str:
    if not agent:
        return "unknown advertiser"
    source, _, key = agent.partition(":")
    return f"{source}:{key[:6]}"


def assign_units(
    new_ads: list[AdState],
    units: list[UnitState],
    day: str,
    first_watched: str | None = None,
    *,
    at_once: bool = True,
    params: MarketParams = DEFAULT_PARAMS,
) -> tuple[list[Link], list[UnitState]]:
    """Give each new ad of one building a unit; returns the links and the units created.

    ``units`` are the building's known units with the ads of the window attached; the
    list is extended with the created units so later ads of the same day can join them.
    ``first_watched``: the first day the building was observed, when that is recent
    enough for reposts of ads never seen to show up now (see _unseen_repost), else None.
    Reposts of ads the unit holds are placed first, one by one; the other new ads of
    each set of look-alikes are weighed together by likelihood: on the first day watched
    into flats all at once (_group_first_day), later with the young units they may join
    (_match_jointly). ``at_once=False`` takes every ad one by one instead, each to the
    best unit it fits (to measure what weighing at once gains: bench/eval_first_day.py).
    ``params``: the tolerances and the grouping model's priors.
    """
    p = params
    by_key: dict[tuple, list[UnitState]] = {}
    for unit in units:
        by_key.setdefault(unit.key, []).append(unit)
    links: list[Link] = []
    created: list[UnitState] = []
    grouped: list[UnitState] = []
    if at_once and first_watched == day and not any(_alive(unit, day, p) for unit in units):
        new_ads, grouped = _group_first_day(new_ads, day, by_key, units, links, p)
    # In the order they went up: a flat's ads then meet the unit its first ad started,
    # instead of a look-alike's that happens to be next in price.
    order = sorted(
        new_ads,
        key=lambda a: (
            a.first_seen,
            repr(a.key),
            a.created or a.first_seen,
            a.rent_until(day) or 0.0,
            a.id,
        ),
    )
    pending: list[AdState] = []
    for ad in order:
        best = _best_unit(ad, by_key, day, p)
        if (
            at_once
            and (best is None or best[2] != "repost")
            and ad.rent_until(day)
            and not ad.flags
        ):
            pending.append(ad)  # weighed with the day's other look-alike new ads
        else:
            _take(ad, best, by_key, units, links, created)
    if pending:
        _match_jointly(pending, day, by_key, units, links, created, p)
    if first_watched is not None:
        # Units the first day's grouping made weighed the unseen reposts already.
        _join_unseen_reposts(links, created, units, by_key, day, first_watched, p)
    return links, [*grouped, *created]


def _best_unit(
    ad: AdState, by_key: dict[tuple, list[UnitState]], day: str, p: MarketParams
) -> tuple[tuple[int, float], UnitState, str, str] | None:
    """(rank and score, unit, kind, reason) of the best unit for the ad, or None."""
    best: tuple[tuple[int, float], UnitState, str, str] | None = None
    for unit in by_key.get(ad.key, []):
        found = _score(ad, unit, day, p)
        if found and (best is None or found[0] < best[0]):
            best = (found[0], unit, found[1], found[2])
    return best


def _take(
    ad: AdState,
    best: tuple[tuple[int, float], UnitState, str, str] | None,
    by_key: dict[tuple, list[UnitState]],
    units: list[UnitState],
    links: list[Link],
    created: list[UnitState],
) -> None:
    """Link the ad to its best unit, or start a unit with it when it has none."""
    if best is None:
        created.append(_start_unit(ad, by_key, units, links))
        return
    (_, score), unit, kind, reason = best
    unit.ads.append(ad)
    links.append(Link(ad, unit, kind, reason, round(score, 4)))


def _match_jointly(
    pending: list[AdState],
    day: str,
    by_key: dict[tuple, list[UnitState]],
    units: list[UnitState],
    links: list[Link],
    created: list[UnitState],
    p: MarketParams,
) -> None:
    """Give the day's new ads (reposts placed already) units, each set of look-alikes
    at once by likelihood (pipeline.units.grouping.place): each ad joins a young unit or
    makes a flat of its own with some of the others."""
    agents = {a.agent for u in units for a in u.ads} | {a.agent for a in pending}
    advertisers = len(agents - {None})
    for cluster in attribute_clusters(pending, p):
        if len(cluster) <= p.joint_max and _weigh(
            cluster, day, advertisers, by_key, units, links, created, p
        ):
            continue
        # Too many to weigh at once: in runs of rent neighbours, each weighed with the
        # units the runs before it made. Taking them one by one to the nearest unit that
        # fits would merge a crowded tower's new look-alike flats, never weighing a flat
        # of their own against the join.
        for run in _rent_runs(cluster, day, p.joint_max):
            if _weigh(run, day, advertisers, by_key, units, links, created, p):
                continue
            for ad in run:
                if not _weigh([ad], day, advertisers, by_key, units, links, created, p):
                    _take(ad, _best_unit(ad, by_key, day, p), by_key, units, links, created)


def _rent_runs(cluster: list[AdState], day: str, size: int) -> list[list[AdState]]:
    """The cluster's ads in order of rent, cut into runs of at most ``size``."""
    ranked = sorted(cluster, key=lambda a: (a.rent_until(day) or 0.0, a.id))
    return [ranked[k : k + size] for k in range(0, len(ranked), size)]


def _weigh(
    cluster: list[AdState],
    day: str,
    advertisers: int,
    by_key: dict[tuple, list[UnitState]],
    units: list[UnitState],
    links: list[Link],
    created: list[UnitState],
    p: MarketParams,
) -> bool:
    """Place one set of look-alike new ads by likelihood; False when over budget."""
    candidates: list[UnitState] = []
    held: list[list[AdState]] = []  # each candidate's unflagged ads with a rent
    allowed: set[tuple[int, int]] = set()  # (new ad, candidate unit) that may join
    for unit in by_key.get(cluster[0].key, []):
        priced = [a for a in unit.ads if not a.flags and a.rent_until(day)]
        if not priced:
            continue  # only flagged or unpriced ads: no flat to weigh new ads against
        fits = [
            k for k, ad in enumerate(cluster) if (f := _score(ad, unit, day, p)) and f[1] == "match"
        ]
        allowed.update((k, len(candidates)) for k in fits)
        if fits:
            candidates.append(unit)
            held.append(priced)
    ads = [a for unit_ads in held for a in unit_ads] + cluster
    evidence = [_evidence(a, a.rent_until(day) or 0.0) for a in ads]  # every ad has a rent
    offset = len(ads) - len(cluster)
    members: list[list[int]] = []
    for unit_ads in held:
        start = sum(len(m) for m in members)
        members.append(list(range(start, start + len(unit_ads))))
    found = place(
        evidence,
        members,
        list(range(offset, len(ads))),
        today=date.fromisoformat(day).toordinal(),
        advertisers=advertisers,
        can_join=lambda i, u: (i - offset, u) in allowed,
        joinable=lambda i, j: area_close(ads[i].area, ads[j].area, p),
        max_span=p.rent_span,
        params=p,
    )
    if found is None:
        return False
    joined, fresh = found
    weighed = (
        f"weighed with the day's {_count(len(cluster), 'new look-alike ad')}"
        + (f" and {_count(offset, 'ad')} of young units" if offset else "")
        + f", rents {min(e.rent for e in evidence):g}–{max(e.rent for e in evidence):g}"
    )
    for unit, (adds, log_odds) in zip(candidates, joined, strict=True):
        for i in adds:
            matched = _score(ads[i], unit, day, p)
            reason = (matched[2] if matched else f"same {describe(unit)}") + (
                f"; {weighed}: likelier this unit's flat than one of its own "
                f"(log-likelihood ratio {log_odds:+.1f})"
            )
            unit.ads.append(ads[i])
            links.append(Link(ads[i], unit, "match", reason, log_odds))
    for group, log_odds in fresh:
        flat_ads = sorted((ads[i] for i in group), key=lambda a: (a.created or a.first_seen, a.id))
        unit = _start_unit(flat_ads[0], by_key, units, links)
        created.append(unit)
        for ad in flat_ads[1:]:
            reason = (
                f"same {describe(unit)} as ad {flat_ads[0].id}; {weighed}: likelier one flat "
                f"than {len(flat_ads)} (log-likelihood ratio {log_odds:+.1f})"
            )
            unit.ads.append(ad)
            links.append(Link(ad, unit, "match", reason, log_odds))
    return True


def _evidence(ad: AdState, rent: float) -> Evidence:
    """What the likelihood grouping weighs of an ad."""
    created = date.fromisoformat(ad.created).toordinal() if ad.created else None
    return Evidence(rent, ad.agent, created)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _alive(unit: UnitState, day: str, p: MarketParams) -> bool:
    last = unit.last_seen_until(day)
    return last is not None and days_between(last, day) <= p.alive_days


def _start_unit(
    ad: AdState, by_key: dict[tuple, list[UnitState]], units: list[UnitState], links: list[Link]
) -> UnitState:
    """A new unit whose first ad is ``ad``, added to the lists."""
    unit = UnitState.of_ad(ad)
    unit.reason = (
        f"{describe(unit)}; first ad {ad.source} {ad.id} by {_short(ad.agent)} on {ad.first_seen}"
    )
    by_key.setdefault(unit.key, []).append(unit)
    units.append(unit)
    links.append(Link(ad, unit, "first", f"first ad of a new unit ({describe(unit)})", 0.0))
    return unit


def _group_first_day(
    new_ads: list[AdState],
    day: str,
    by_key: dict[tuple, list[UnitState]],
    units: list[UnitState],
    links: list[Link],
    p: MarketParams,
) -> tuple[list[AdState], list[UnitState]]:
    """Group the ads of a building's first day watched into units, each set of
    look-alikes at once by likelihood (pipeline.units.grouping); returns the ads left to the
    one-by-one matching (no rent, or too many look-alikes for the search) and the units
    made."""
    rent_of = {a.id: a.rent_until(day) for a in new_ads}
    priced = [a for a in new_ads if rent_of[a.id]]
    left = [a for a in new_ads if not rent_of[a.id]]
    advertisers = len({a.agent or f"?{a.id}" for a in new_ads})
    today = date.fromisoformat(day).toordinal()
    made: list[UnitState] = []
    for cluster in attribute_clusters(priced, p):
        evidence = [_evidence(a, rent_of[a.id] or 0.0) for a in cluster]  # priced: never 0
        groups = partition(
            evidence,
            today=today,
            advertisers=advertisers,
            joinable=_areas_close(cluster, p),
            max_span=p.rent_span,
            params=p,
        )
        if groups is None:
            left.extend(cluster)
            continue
        for group in groups:
            ads = sorted(
                (cluster[i] for i in group.members),
                key=lambda a: (a.created or a.first_seen, rent_of[a.id] or 0.0, a.id),
            )
            unit = _start_unit(ads[0], by_key, units, links)
            made.append(unit)
            if len(ads) == 1:
                continue
            rents = [rent_of[a.id] or 0.0 for a in ads]
            dates = [a.created for a in ads if a.created]
            reason = (
                f"first day watched: {len(ads)} look-alike ads ({describe(unit)}) of "
                f"advertisers {', '.join(_short(a.agent) for a in ads)}, rents "
                f"{min(rents):g}–{max(rents):g} ({max(rents) / min(rents) - 1:.1%} apart)"
                + (f", put up {', '.join(dates)}" if dates else "")
                + f": likelier one flat than {len(ads)} (log-likelihood ratio "
                f"{group.log_odds:+.1f})"
            )
            for ad in ads[1:]:
                unit.ads.append(ad)
                links.append(Link(ad, unit, "match", reason, group.log_odds))
    return left, made


def _join_unseen_reposts(
    links: list[Link],
    created: list[UnitState],
    units: list[UnitState],
    by_key: dict[tuple, list[UnitState]],
    day: str,
    first_watched: str,
    p: MarketParams,
) -> None:
    """Move each of the day's new units of at most ``unseen_group_max`` ads into the unit
    whose unseen reposts they are (see _unseen_repost); updates the lists in place.

    Only after the whole day's matching: a fresh flat's ads put up together have by then
    met in one unit. What is left in a unit of one ad, or of two put up within ``join_days``
    of each other (two of a flat's ads reposted about the same time), may be reposts of a
    flat already on offer. Earlier units move first, so an ad never joins a unit that
    moves away after it.
    """
    for unit in list(created):
        if len(unit.ads) > p.unseen_group_max:
            continue
        others = [u for u in by_key.get(unit.key, []) if u is not unit]
        found = _unseen_reposts_of(unit, others, day, first_watched, p)
        if found is None:
            continue
        target, joins = found
        created.remove(unit)
        units.remove(unit)
        by_key[unit.key].remove(unit)
        links[:] = [link for link in links if link.unit is not unit]
        for ad, ((_, score), _, kind, reason) in joins:
            target.ads.append(ad)
            links.append(Link(ad, target, kind, reason, round(score, 4)))


def _unseen_reposts_of(
    unit: UnitState, candidates: list[UnitState], day: str, first_watched: str, p: MarketParams
) -> tuple[UnitState, list[tuple[AdState, tuple]]] | None:
    """The candidate unit that every ad of ``unit`` joins as an unseen repost, each with
    its link (found by the first ad; the others must fit it with the first ones added),
    or None."""
    first_ad, *rest = unit.ads
    first = _unseen_repost(first_ad, candidates, day, first_watched, p)
    if first is None:
        return None
    target = first[1]
    trial = dataclasses.replace(target, ads=[*target.ads, first_ad])
    joins: list[tuple[AdState, tuple]] = [(first_ad, first)]
    for ad in rest:
        found = _unseen_repost(ad, [trial], day, first_watched, p)
        if found is None:
            return None
        trial.ads.append(ad)
        joins.append((ad, found))
    return target, joins


def _score(
    ad: AdState, unit: UnitState, day: str, p: MarketParams
) -> tuple[tuple[int, float], str, str] | None:
    """((rank, score), kind, reason) of the ad joining the unit, or None when it cannot.

    Any repost ranks before any match; within each, the lower score wins.
    """
    if not area_close(ad.area, unit.area, p):
        return None
    if not _alive(unit, day, p):
        return None
    if _advertiser_shows(ad, unit, day):
        return None  # one advertiser never lists one flat twice at once
    rent, unit_rent, gap = _rent_gap(ad, unit, day)
    # A repost is judged against its old ad; the unit's other ads may not have followed a
    # price cut yet, or may have followed one the repost's agency has not.
    if ad.poster and (gap is None or gap <= p.rent_tol + p.repost_cut_max):
        repost = _repost_of(ad, unit, day, p)
        if repost is not None:
            old, vanished, unlikeness = repost
            new_rent, old_rent = ad.rent_until(day), old.rent_until(day)
            cut = (
                f", at a price cut from {old_rent:g} to {new_rent:g} as another advertiser's"
                if new_rent and old_rent and new_rent < old_rent * (1 - p.repost_rent_tol)
                else ""
            )
            return (
                (0, unlikeness),
                "repost",
                f"repost: same {'advertiser' if ad.agent else 'label'} {_short(ad.poster)} "
                f"and {describe(unit)}; "
                f"ad {old.id} last seen {vanished}, new ad {ad.id} from {ad.first_seen}{cut}",
            )
    if gap is None or gap > p.rent_tol or not _within_span(ad, unit, day, p):
        return None
    lag, timing = _listing_lag(ad, unit)
    if lag > p.join_days:
        return None
    agents = sorted({_short(a.agent) for a in unit.ads if a.agent})
    reason = (
        f"same {describe(unit)}, rent {rent:g} vs unit {unit_rent:g} ({gap:.1%}), "
        f"advertiser {_short(ad.agent)} not yet on the unit (has {', '.join(agents) or 'none'}), "
        f"{timing}"
    )
    # a market whose agencies all list a flat the day it empties fits join_days = 0
    timing_gap = lag / p.join_days if p.join_days else 0.0
    return (1, gap / p.rent_tol + timing_gap), "match", reason


def _listing_lag(ad: AdState, unit: UnitState) -> tuple[int, str]:
    """Days between the ad going up and the unit's first ad going up, and how it is known.

    The site's creation days when the ad's id and one of the unit's ads' ids carry them
    (an ad up for weeks before we first saw it then still tells when it went up), else
    the days we first saw each.
    """
    unit_created = min((a.created for a in unit.ads if a.created), default=None)
    if ad.created and unit_created:
        return abs(days_between(unit_created, ad.created)), (
            f"created {ad.created}, unit's first ad created {unit_created} (site ids)"
        )
    return abs(days_between(unit.first_seen, ad.first_seen)), (
        f"listed {ad.first_seen}, unit since {unit.first_seen}"
    )


def _repost_of(
    ad: AdState, unit: UnitState, day: str, p: MarketParams
) -> tuple[AdState, str, float] | None:
    """The unit's vanished ad that ``ad`` reposts, when there is one: (old ad, its last
    day seen, how unlike the two are).

    A busy advertiser may have let several look-alike flats' ads lapse in the same few
    days, so every unit with one of them qualifies; the repost belongs to the flat whose
    old ad it copies best (an advertiser reposts an ad with its rent and area), and that
    vanished last before the new one appeared: the unlikeness adds the rent gap, the
    area gap and the days between them, each as a share of its tolerance.
    """
    best: tuple[AdState, str, float] | None = None
    for old in unit.ads:
        if old.poster != ad.poster or old.seen_on(day):
            continue
        vanished = old.last_seen_until(day)
        if not vanished:
            continue
        gap_days = days_between(vanished, ad.first_seen)
        if not 0 < gap_days <= p.repost_days:
            continue
        new_rent, old_rent = ad.rent_until(day), old.rent_until(day)
        rent_gap = abs(new_rent - old_rent) / old_rent if new_rent and old_rent else p.rent_tol
        if new_rent and old_rent and rent_gap > p.repost_rent_tol:
            cut = new_rent < old_rent and rent_gap <= p.repost_cut_max
            if not (cut and _cut_by_others(unit, ad, day, p)):
                continue
        area_gap = (
            abs(ad.area - old.area) if ad.area is not None and old.area is not None else p.area_tol
        )
        unlike = rent_gap / p.rent_tol + area_gap / p.area_tol + (gap_days - 1) / p.repost_days
        if best is None or unlike < best[2]:
            best = (old, vanished, unlike)
    return best


def _cut_by_others(unit: UnitState, ad: AdState, day: str, p: MarketParams) -> bool:
    """Another advertiser still shows the unit on ``day`` and cut its price within
    ``cut_follow_days``: the flat is on offer, and its landlord lowered the price."""
    days = [shift_day(day, -n) for n in range(p.cut_follow_days + 1)]
    return any(
        a.poster != ad.poster and a.seen_on(day) and any(a.cut_on(d, p.cut_min) for d in days)
        for a in unit.ads
    )


def _unseen_repost(
    ad: AdState, units: list[UnitState], day: str, first_watched: str, p: MarketParams
) -> tuple[tuple[int, float], UnitState, str, str] | None:
    """The unit ``ad`` is a repost of, when its old ad vanished before we first watched
    the building: ((rank, score), unit, kind, reason), or None.

    On the first day a building is watched every ad already up appears at once, and an
    advertiser that reposted its ad under a new id at any time before shows another day
    than the flat's other ads (later; or earlier, when the others were reposted); so does
    one that reposts on the next day an ad that vanished the day before watching began.
    Such an ad, left alone (or with one other) after the day's matching, joins a
    look-alike unit that was already up on the first day and is still live, from an
    advertiser the unit never had, when it was first seen at most ``unseen_repost_days``
    after the first day watched, went up more than ``join_days`` apart from the unit's ads
    (else it would have matched) and its area and rent fit (within the tolerances and
    the unit's span). The closest rent wins. Tried and not taken on the simulated market
    (docs/units-history.md): only reaching back to ads put up the day before watching
    began; only joining units whose ads went up before the ad; leaving an ad alone when
    two candidates fit about as well.
    """
    if not ad.agent or days_between(first_watched, ad.first_seen) > p.unseen_repost_days:
        return None
    rent = ad.rent_until(day)
    best: tuple[tuple[int, float], UnitState, str, str] | None = None
    for unit in units:
        if unit.first_seen > first_watched or not area_close(ad.area, unit.area, p):
            continue
        if not _alive(unit, day, p):
            continue
        if any(a.agent == ad.agent for a in unit.ads if a is not ad) or any(
            agent == ad.agent for _, agent in unit.outside
        ):
            continue
        lag, timing = _listing_lag(ad, unit)
        if lag <= p.join_days:
            continue  # a match, had it fitted
        _, unit_rent, gap = _rent_gap(ad, unit, day)
        if (gap is not None and gap > p.rent_tol) or not _within_span(ad, unit, day, p):
            continue
        score = (gap or 0.0) / p.rent_tol
        if best is None or score < best[0][1]:
            best = (
                (2, score),
                unit,
                "unseen_repost",
                f"repost of an ad not seen: advertiser {_short(ad.agent)} new to "
                f"{describe(unit)}, unit up since {unit.first_seen}, when watching began; "
                + (f"rent {rent:g} vs unit {unit_rent:g}, " if rent and unit_rent else "")
                + timing,
            )
    return best


def attribute_clusters(ads: list[AdState], p: MarketParams = DEFAULT_PARAMS) -> list[list[AdState]]:
    """Groups of look-alike ads: same key and areas chained within the area tolerance."""
    by_key: dict[tuple, list[AdState]] = {}
    for ad in ads:
        by_key.setdefault(ad.key, []).append(ad)
    clusters: list[list[AdState]] = []
    for group in by_key.values():
        group.sort(key=lambda a: (a.area is None, a.area or 0.0, a.id))
        current: list[AdState] = []
        for ad in group:
            if current and not area_close(current[-1].area, ad.area, p):
                clusters.append(current)
                current = []
            current.append(ad)
        if current:
            clusters.append(current)
    return clusters


def units_low(ads: list[AdState], params: MarketParams = DEFAULT_PARAMS) -> int:
    """The fewest distinct flats these live ads can be.

    Within a cluster of look-alike ads, one advertiser's co-live ads are different flats,
    so the cluster holds at least as many flats as its busiest advertiser has ads there
    (an ad with no advertiser counts as an advertiser of its own).
    """
    total = 0
    for cluster in attribute_clusters(ads, params):
        counts: dict[str, int] = {}
        for ad in cluster:
            agent = ad.agent or f"?{ad.id}"
            counts[agent] = counts.get(agent, 0) + 1
        total += max(counts.values())
    return total
