"""Grouping look-alike ads into flats by likelihood.

A tower's look-alike flats are a few % apart in rent while each agency asks a few %
around its landlord's price, so taking ads one by one and giving each the nearest unit
puts many a flat's ad in its look-alike's unit. Here a whole set of look-alike ads is
weighed at once, for every candidate flat:

- how many ads a flat has and from which advertisers (``ads_per_flat``; any set of that
  many of the building's advertisers is equally likely, and one advertiser never lists
  one flat twice);
- how close its ads' rents are (each ad asks the flat's rent times a noise of about
  ``rent_sigma`` in log terms; no flat's ads span more than the caller's ``max_span``);
- when its ads went up (a flat's agencies list it within a few days, ``listing_lag``, and
  since then each ad was reposted, taking that day's date, at ``repost_rate`` a day);
- against one flat more: the density of look-alike flats on the rent axis (on the first
  day the set's flats over the range of their rents; on a later day a normal base measure
  spread as the market's look-alike flats are, ``flat_spread``, fitted).

``partition`` splits the ads of a building's first day watched, when every ad already
up appears at once (ads put up weeks before were reposted under new ids at any time, so
their days say less than a fresh flat's). ``place`` gives a later day's new ads their
flats: a young unit's, or one of their own, with the units' ads kept together. Both
search exactly; a set too large for the search budget is left to the one-by-one
matching.

The numbers are fields of MarketParams (pipeline.units.params), passed in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.units.params import DEFAULT_PARAMS, MarketParams


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one ad shows on the first day."""

    rent: float
    agent: str | None
    created: int | None  # the day (ordinal) the site created the ad, when its id says


@dataclass(frozen=True, slots=True)
class Group:
    members: tuple[int, ...]  # indexes into the evidence
    #: log-likelihood of the members being one flat rather than each a flat of its own
    log_odds: float


def partition(
    ads: Sequence[Evidence],
    *,
    today: int,
    advertisers: int,
    joinable: Callable[[int, int], bool],
    max_span: float,
    params: MarketParams = DEFAULT_PARAMS,
) -> list[Group] | None:
    """The likeliest split of look-alike ads into flats, or None when over budget.

    ``advertisers``: how many advertisers list ads in the building (the flat's ads come
    from a few of them); ``joinable(i, j)``: whether ads i and j can be of one flat on
    other grounds (area). Ads of one advertiser never share a group.
    """
    n = len(ads)
    if n == 0:
        return []
    if n > params.search_depth:
        return None
    order = sorted(range(n), key=lambda i: (ads[i].rent, i))
    model = _Model(ads, today, max(advertisers, 1), params)
    candidates: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    score_of: dict[int, float] = {}  # mask of positions -> that group's score
    enumerated = 0

    def grow(members: list[int], agents: set[str]) -> bool:
        nonlocal enumerated
        enumerated += 1
        if enumerated > params.search_budget:
            return False
        mask = sum(1 << p for p in members)
        score_of[mask] = model.score([order[p] for p in members])
        candidates[members[0]].append((mask, score_of[mask]))
        if len(members) >= params.max_group:
            return True
        low = ads[order[members[0]]].rent
        for p in range(members[-1] + 1, n):
            ad = ads[order[p]]
            if ad.rent / low - 1 > max_span:
                break
            if ad.agent is not None and ad.agent in agents:
                continue
            if not all(joinable(order[p], order[q]) for q in members):
                continue
            if not grow([*members, p], agents | ({ad.agent} if ad.agent else set())):
                return False
        return True

    for p in range(n):
        agent = ads[order[p]].agent
        if not grow([p], {agent} if agent else set()):
            return None
    best = _search(candidates, n, params.search_budget)
    if best is None:
        return None
    groups = []
    for mask in best:
        positions = [p for p in range(n) if mask >> p & 1]
        alone = sum(score_of[1 << p] for p in positions)
        members = tuple(sorted(order[p] for p in positions))
        groups.append(Group(members, round(score_of[mask] - alone, 3)))
    return sorted(groups, key=lambda g: g.members)


def _search(candidates: list[list[tuple[int, float]]], n: int, budget: int) -> list[int] | None:
    """The set of candidate groups covering every ad once with the highest total score.

    Each state is the set of ads still to place; its lowest ad goes in one of the groups
    it is the lowest of, so every split is reached once.
    """
    memo: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}

    def best(rest: int) -> tuple[float, tuple[int, ...]] | None:
        if rest in memo:
            return memo[rest]
        if len(memo) > budget:
            return None
        low = (rest & -rest).bit_length() - 1
        found: tuple[float, tuple[int, ...]] | None = None
        for mask, score in candidates[low]:
            if mask & rest != mask:
                continue
            sub = best(rest & ~mask)
            if sub is None:
                return None
            if found is None or score + sub[0] > found[0]:
                found = (score + sub[0], (mask, *sub[1]))
        memo[rest] = found  # type: ignore[assignment]  # the lowest ad alone always fits
        return found

    result = best((1 << n) - 1)
    return None if result is None else list(result[1])


class _Model:
    """Log-likelihood of a set of ads being the ads of one flat (up to a constant)."""

    def __init__(
        self,
        ads: Sequence[Evidence],
        today: int,
        advertisers: int,
        params: MarketParams,
        later: bool = False,
    ) -> None:
        self.ads = ads
        self.today = today
        self.advertisers = advertisers
        self.ads_per_flat = dict(params.ads_per_flat)
        self.tail_share = params.tail_share
        self.listing_lag = dict(params.listing_lag)
        self.repost_rate = params.repost_rate
        self.sigma = params.rent_sigma
        self.logs = logs = [math.log(a.rent) for a in ads]
        if not later:
            # the first day: the set's ads stand for its flats, over the range they span
            flats = max(1.0, len(ads) / params.mean_ads_per_flat)
            self.log_density: float | None = math.log(
                params.density_scale * flats / (max(logs) - min(logs) + params.rent_margin)
            )
        else:
            # a later day: the flats the ads stand for, spread around their mean log rent as
            # the market's look-alike flats are (``flat_spread``), or as widely as the ads
            # lie when wider: an empirical-Bayes base measure of the flats' rents
            self.center = sum(logs) / len(logs)
            own = sum((x - self.center) ** 2 for x in logs) / max(len(logs) - 1, 1)
            self.spread_sq = max(params.flat_spread**2, own - params.rent_sigma**2)
            self.log_flats = math.log(max(1.0, len(logs) / params.mean_ads_per_flat))
            self.log_density = None
        dated = [a.created for a in ads if a.created is not None]
        self.window = max(today - min(dated) + 1, len(self.listing_lag)) if dated else 1

    def score(self, members: Sequence[int]) -> float:
        n = len(members)
        share = self.ads_per_flat.get(n) or self.tail_share * 0.5 ** (
            n - 1 - max(self.ads_per_flat)
        )
        score = math.log(share) - math.log(math.comb(max(self.advertisers, n), n))
        logs = [self.logs[i] for i in members]
        mean = sum(logs) / n
        score += self._density(mean, n) + self._rents(logs, mean) + self._days(members)
        return score

    def _density(self, mean: float, n: int) -> float:
        """Log density of look-alike flats at the rent of a flat whose ``n`` ads' log rents
        average ``mean``."""
        if self.log_density is not None:
            return self.log_density
        var = self.spread_sq + self.sigma**2 / n
        return (
            self.log_flats
            - (mean - self.center) ** 2 / (2 * var)
            - 0.5 * math.log(2 * math.pi * var)
        )

    def _rents(self, logs: list[float], mean: float) -> float:
        """Gaussian log-likelihood of one flat's ads' log rents (``logs``, averaging
        ``mean``) around its rent, the rent integrated out."""
        n = len(logs)
        squares = sum((x - mean) ** 2 for x in logs)
        sigma = self.sigma
        return (
            -squares / (2 * sigma**2)
            - (n - 1) * math.log(sigma * math.sqrt(2 * math.pi))
            - 0.5 * math.log(n)
        )

    def _days(self, members: Sequence[int]) -> float:
        """Log-likelihood of the days the ads went up: the earliest may be any day of the
        window; each other one is one of the flat's first ads, a few days later, or a
        repost on any day since."""
        days = sorted(d for i in members if (d := self.ads[i].created) is not None)
        if not days:
            return 0.0
        first = days[0]
        score = -math.log(self.window)
        # a repost takes a day at least: the flat's first ad put up today, or on a day the
        # site's clock has ahead of ours, may still have been reposted, so no later ad is
        # impossible however the lags were fitted
        up = max(1, self.today - first, days[-1] - first)
        reposted = 1 - math.exp(-self.repost_rate * up)
        for day in days[1:]:
            lag = self.listing_lag.get(day - first, 0.0)
            score += math.log((1 - reposted) * lag + reposted / (up + 1))
        return score


def place(
    ads: Sequence[Evidence],
    units: Sequence[Sequence[int]],
    new: Sequence[int],
    *,
    today: int,
    advertisers: int,
    can_join: Callable[[int, int], bool],
    joinable: Callable[[int, int], bool],
    max_span: float,
    params: MarketParams = DEFAULT_PARAMS,
) -> tuple[list[tuple[list[int], float]], list[tuple[list[int], float]]] | None:
    """The likeliest way to give new ads flats among units already made, or None when
    over budget.

    ``ads`` holds the evidence of the units' ads and of the new ones; ``units`` lists
    each unit's ads (indexes into ``ads``), kept together; ``new`` the ads to place.
    ``can_join(i, u)``: whether new ad i may join unit u on other grounds (area, days);
    ``joinable(i, j)``: whether new ads i and j may be one flat. Returns the new ads
    each unit takes, and the groups of new ads that are flats of their own, each with
    the log-likelihood ratio of that against each new ad being a flat of its own (a
    unit taking none: 0).
    """
    model = _Model(ads, today, max(advertisers, 1), params, later=True)
    score_of: dict[tuple[int, ...], float] = {}

    def score(members: tuple[int, ...]) -> float:
        if members not in score_of:
            score_of[members] = model.score(members)
        return score_of[members]

    groups: list[list[int]] = [list(u) for u in units]
    agents: list[set[str]] = [{a for i in u if (a := ads[i].agent)} for u in units]
    fixed = len(groups)
    new_set = set(new)
    best_total: float | None = None
    best_groups: list[list[int]] = []
    leaves = 0

    def fits(i: int, g: int) -> bool:
        ad, group = ads[i], groups[g]
        if len(group) >= params.max_group or (ad.agent is not None and ad.agent in agents[g]):
            return False
        if g < fixed and not can_join(i, g):
            return False
        if not all(joinable(i, j) for j in group if j in new_set):
            return False
        rents = [ads[j].rent for j in group] + [ad.rent]
        return max(rents) / min(rents) - 1 <= max_span

    # Every way of placing them is tried: give up at once when even a bound on their
    # number is over budget (each new ad joins a unit it may join, a group of the new
    # ads before it, or starts one).
    ways = 1
    for k, i in enumerate(new):
        ways *= 1 + k + sum(can_join(i, u) for u in range(fixed))
        if ways > params.search_budget:
            return None

    def walk(k: int) -> bool:
        nonlocal leaves, best_total, best_groups
        if k == len(new):
            leaves += 1
            if leaves > params.search_budget:
                return False
            total = sum(score(tuple(sorted(g))) for g in groups)
            if best_total is None or total > best_total:
                best_total, best_groups = total, [list(g) for g in groups]
            return True
        i, agent = new[k], ads[new[k]].agent
        for g in range(len(groups)):
            if fits(i, g):
                groups[g].append(i)
                if agent:
                    agents[g].add(agent)
                ok = walk(k + 1)
                groups[g].pop()
                if agent:
                    agents[g].discard(agent)
                if not ok:
                    return False
        groups.append([i])
        agents.append({agent} if agent else set())
        ok = walk(k + 1)
        groups.pop()
        agents.pop()
        return ok

    if not walk(0) or best_total is None:
        return None

    def gain(group: list[int], kept: Sequence[int]) -> float:
        added = group[len(kept) :]
        before = (score(tuple(sorted(kept))) if kept else 0.0) + sum(score((i,)) for i in added)
        return round(score(tuple(sorted(group))) - before, 3)

    joined = [(g[len(u) :], gain(g, u)) for g, u in zip(best_groups, units, strict=False)]
    fresh = [(g, gain(g, [])) for g in best_groups[fixed:]]
    return joined, fresh
