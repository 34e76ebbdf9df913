"""Which advertiser keys are one advertiser, and which a label many advertisers share.

Pure. The de-duplication leans on a fact: one advertiser never lists one flat twice at
once, so two co-live ads of one advertiser are two flats. It holds for a store, not for a
label that many stores' cards show: on Beike most cards read only ``贝壳优选`` (19 of 32
and 19 of 33 cards on the two saved list pages, fixtures/real/lianjia), 链家's cards may
show the brand alone, and ``职业房东`` is a kind of advertiser, not one. Treating such a
label as one advertiser forbids grouping the very ads that are one flat's, and counts a
flat once per store behind the label.

The data tell the two apart. Within a building's look-alike ads (same look, areas
chained: ``attribute_clusters``), the log-rent differences of pairs of ads of two
different keys are a mixture: one flat's two ads (narrow: the agencies' jitter) and two
look-alike flats (wide). It is fitted by EM (``half_normal_mixture``, rounding taken into
account). A store's own pairs are always two flats, so they follow the wide part alone;
a label's own pairs include one flat's ads through two of its stores, so they follow the
mixture. Each key with pairs of its own gets the likelier of the two: the sum of its
pairs' log likelihood ratios, against prior odds that are the share of labels among the
keys, fitted by EM over the keys (a store with one chance close pair stays a store where
labels are few). A key with no pair of its own stays one advertiser, as the site's
markup says.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from pipeline.units.dedup import attribute_clusters
from pipeline.units.estimate import half_normal_mixture, pair_likelihood
from pipeline.units.model import AdState
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

#: At most this many pairs of two keys go into the mixture fit (an even sample beyond):
#: a work budget, the fit's two rates are settled long before.
MAX_CROSS_PAIRS = 4_000
#: The labels' share is kept this far inside (0, 1): a numeric guard for its log odds.
SHARE_GUARD = 1e-3


@dataclass(frozen=True, slots=True)
class SharedKeys:
    """The keys judged shared by many advertisers, with the figures behind the call."""

    shared: frozenset[str]
    #: the mixture of two keys' pairs: one flat's (sd), two flats' (sd), one flat's share
    narrow: float
    wide: float
    share: float
    #: key -> pairs among its own look-alike ads
    own: dict[str, int]
    #: pairs of two keys the mixture was fitted on
    cross_pairs: int = 0


def _log_diff(a: AdState, b: AdState, day: str) -> float | None:
    ra, rb = a.rents.get(day), b.rents.get(day)
    if not ra or not rb:
        return None
    return abs(math.log(ra / rb))


def label_share(loglrs: list[float], rounds: int = 100) -> float:
    """The share of keys that are labels, by EM over each key's class (a two-class mixture
    whose per-key likelihood ratios are ``loglrs``): the prior odds a key starts from, so
    that one chance close pair of a store's two flats does not make it a label."""
    if not loglrs:
        return 0.5
    share = 0.5
    for _ in range(rounds):
        odds = share / (1 - share)
        posts = [1.0 if lr == math.inf else _posterior(lr, odds) for lr in loglrs]
        new = min(max(sum(posts) / len(posts), SHARE_GUARD), 1 - SHARE_GUARD)
        if abs(new - share) < 1e-6:
            return new
        share = new
    return share


def _posterior(loglr: float, odds: float) -> float:
    z = loglr + math.log(odds)
    return 1 / (1 + math.exp(-z)) if z > -700 else 0.0


def shared_keys(
    buildings: Iterable[list[AdState]],
    day: str,
    halfwidth: float = 0.0,
    params: MarketParams = DEFAULT_PARAMS,
    narrow_sd: float | None = None,
) -> SharedKeys:
    """Judge every advertiser key of these buildings' ads of ``day``; ``halfwidth``: the
    rounding step over the rent (pipeline.units.estimate.robust_jitter); ``narrow_sd``:
    the sd of one flat's two ads' difference when known (sqrt(2) jitters)."""
    cross: list[float] = []
    own: dict[str, list[float]] = {}
    for ads in buildings:
        for cluster in attribute_clusters([a for a in ads if a.agent], params):
            for a, b in combinations(cluster, 2):
                diff = _log_diff(a, b, day)
                if diff is None:
                    continue
                if a.agent == b.agent:
                    assert a.agent is not None
                    own.setdefault(a.agent, []).append(diff)
                else:
                    cross.append(diff)
    pairs = {k: len(v) for k, v in sorted(own.items())}
    if len(cross) < 2:
        return SharedKeys(frozenset(), 0.0, 0.0, 0.0, pairs, len(cross))
    step = max(1, len(cross) // MAX_CROSS_PAIRS)
    narrow, wide, share = half_normal_mixture(
        cross[::step], halfwidth=halfwidth, narrow_sd=narrow_sd
    )
    loglr: dict[str, float] = {}
    for key, diffs in own.items():
        total = 0.0
        for x in diffs:
            one = pair_likelihood(x, halfwidth, narrow)
            two = pair_likelihood(x, halfwidth, wide)
            if two > 0:
                total += math.log(share * one / two + 1 - share)
            elif one > 0:
                total = math.inf
        loglr[key] = total
    labels = label_share(list(loglr.values()))
    prior = math.log(labels / (1 - labels))
    shared = {key for key, lr in loglr.items() if lr + prior > 0}
    return SharedKeys(frozenset(shared), narrow, wide, share, pairs, len(cross))
