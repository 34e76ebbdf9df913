"""Grouping look-alike ads into flats by likelihood.

A tower's look-alike flats are a few % apart in rent while each agency asks a few %
around its landlord's price, so taking ads one by one and giving each the nearest unit
puts many a flat's ad in its look-alike's unit. Here a whole set of look-alike ads is
weighed at once, for every candidate flat:

- how many ads a flat has and from which advertisers (ADS_PER_FLAT; any set of that
  many of the building's advertisers is equally likely, and one advertiser never lists
  one flat twice);
- how close its ads' rents are (each ad asks the flat's rent times a noise of about
  RENT_SIGMA in log terms; no flat's ads span more than the caller's ``max_span``);
- when its ads went up (a flat's agencies list it within a few days, LISTING_LAG, and
  since then each ad was reposted, taking that day's date, at REPOST_RATE a day);
- against one flat more: the density of look-alike flats on the rent axis.

``partition`` splits the ads of a building's first day watched, when every ad already
up appears at once (ads put up weeks before were reposted under new ids at any time, so
their days say less than a fresh flat's). ``place`` gives a later day's new ads their
flats: a young unit's, or one of their own, with the units' ads kept together. Both
search exactly; a set too large for the search budget is left to the one-by-one
matching.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: Share of flats with 1, 2, 3, 4 … ads at once (a flat is usually given to a few
#: agencies); more than listed here: TAIL_SHARE, halving with each further ad.
ADS_PER_FLAT = {1: 0.2, 2: 0.3, 3: 0.3, 4: 0.2}
TAIL_SHARE = 0.02
#: Mean of ADS_PER_FLAT: turns a group's ad count into an expected count of flats.
MEAN_ADS_PER_FLAT = 2.5
#: Standard deviation of an ad's log rent around its flat's (agencies ask about ±3 %).
RENT_SIGMA = 0.0175
#: Share of a flat's first ads put up 0, 1, 2 days after its first one.
LISTING_LAG = {0: 0.5, 1: 0.3, 2: 0.2}
#: Chance a day that an agency takes its ad down and puts it up again under a new id.
REPOST_RATE = 0.02
#: Log-rent width added to a group's rent range when estimating the density of flats.
RENT_MARGIN = 0.1
#: The density of look-alike flats is the group's ads over MEAN_ADS_PER_FLAT over its
#: log-rent width, times this: calibrated so that the model's expected number of flats
#: (over its posterior) matches the true count on the simulated market's first day
#: (seeds 3, 11, 17: 0.995 of it, against 1.037 unscaled; seeds 5, 7, 23, 13: 0.996
#: against 1.039; docs/units-history.md).
DENSITY_SCALE = 0.5
#: Most ads one flat is searched with, and the most candidate groups and search states a
#: look-alike group may take before it is left to the one-by-one matching.
MAX_GROUP = 6
SEARCH_BUDGET = 100_000
#: The search recurses once per group placed: more look-alike ads than this at once are
#: left to the one-by-one matching too.
SEARCH_DEPTH = 400


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
) -> list[Group] | None:
    """The likeliest split of look-alike ads into flats, or None when over budget.

    ``advertisers``: how many advertisers list ads in the building (the flat's ads come
    from a few of them); ``joinable(i, j)``: whether ads i and j can be of one flat on
    other grounds (area). Ads of one advertiser never share a group.
    """
    n = len(ads)
    if n == 0:
        return []
    if n > SEARCH_DEPTH:
        return None
    order = sorted(range(n), key=lambda i: (ads[i].rent, i))
    model = _Model(ads, today, max(advertisers, 1))
    candidates: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    score_of: dict[int, float] = {}  # mask of positions -> that group's score
    enumerated = 0

    def grow(members: list[int], agents: set[str]) -> bool:
        nonlocal enumerated
        enumerated += 1
        if enumerated > SEARCH_BUDGET:
            return False
        mask = sum(1 << p for p in members)
        score_of[mask] = model.score([order[p] for p in members])
        candidates[members[0]].append((mask, score_of[mask]))
        if len(members) >= MAX_GROUP:
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
    best = _search(candidates, n)
    if best is None:
        return None
    groups = []
    for mask in best:
        positions = [p for p in range(n) if mask >> p & 1]
        alone = sum(score_of[1 << p] for p in positions)
        members = tuple(sorted(order[p] for p in positions))
        groups.append(Group(members, round(score_of[mask] - alone, 3)))
    return sorted(groups, key=lambda g: g.members)


def _search(candidates: list[list[tuple[int, float]]], n: int) -> list[int] | None:
    """The set of candidate groups covering every ad once with the highest total score.

    Each state is the set of ads still to place; its lowest ad goes in one of the groups
    it is the lowest of, so every split is reached once.
    """
    memo: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}

    def best(rest: int) -> tuple[float, tuple[int, ...]] | None:
        if rest in memo:
            return memo[rest]
        if len(memo) > SEARCH_BUDGET:
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

    def __init__(self, ads: Sequence[Evidence], today: int, advertisers: int) -> None:
        self.ads = ads
        self.today = today
        self.advertisers = advertisers
        logs = [math.log(a.rent) for a in ads]
        flats = max(1.0, len(ads) / MEAN_ADS_PER_FLAT)
        self.log_density = math.log(DENSITY_SCALE * flats / (max(logs) - min(logs) + RENT_MARGIN))
        dated = [a.created for a in ads if a.created is not None]
        self.window = max(today - min(dated) + 1, len(LISTING_LAG)) if dated else 1

    def score(self, members: Sequence[int]) -> float:
        n = len(members)
        share = ADS_PER_FLAT.get(n) or TAIL_SHARE * 0.5 ** (n - 1 - max(ADS_PER_FLAT))
        score = math.log(share) - math.log(math.comb(max(self.advertisers, n), n))
        score += self.log_density + self._rents(members) + self._days(members)
        return score

    def _rents(self, members: Sequence[int]) -> float:
        """Gaussian log-likelihood of the ads' log rents around one flat's, its rent
        integrated out."""
        n = len(members)
        logs = [math.log(self.ads[i].rent) for i in members]
        mean = sum(logs) / n
        squares = sum((x - mean) ** 2 for x in logs)
        return (
            -squares / (2 * RENT_SIGMA**2)
            - (n - 1) * math.log(RENT_SIGMA * math.sqrt(2 * math.pi))
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
        up = max(0, self.today - first)
        reposted = 1 - math.exp(-REPOST_RATE * up)
        for day in days[1:]:
            lag = LISTING_LAG.get(day - first, 0.0)
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
    model = _Model(ads, today, max(advertisers, 1))
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
        if len(group) >= MAX_GROUP or (ad.agent is not None and ad.agent in agents[g]):
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
        if ways > SEARCH_BUDGET:
            return None

    def walk(k: int) -> bool:
        nonlocal leaves, best_total, best_groups
        if k == len(new):
            leaves += 1
            if leaves > SEARCH_BUDGET:
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
