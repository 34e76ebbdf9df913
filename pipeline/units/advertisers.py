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
account); its narrow part is how far one flat's two ads lie.

A store's own pairs are always two flats; a label's own pairs include one flat's ads
through two of its stores, so they hold more pairs at the narrow spread than two flats
would. How far two flats of one key lie is the crux, and no one model of it holds in
every market: against the wide part of the pairs of two keys, a tower whose same-plan
flats ask nearly the same rent shows every store's own pairs as too close, and every
store looked like a label (zoo-02: 126 of 147 keys). So a key's own pairs are weighed,
label against one advertiser, under three models of two flats, and the least of the three
log likelihood ratios stands (a label must beat each, as in a likelihood ratio test
against a composite null):

- the wide part of the pairs of two keys;
- a two-part half-normal (same-plan flats, look-alike plans) fitted on the keys' own
  pairs, pooled over the city (``judge_keys``: the keys are a two-class mixture, fitted
  by EM together with the two-flat spread, a label's share of one-flat pairs and the
  share of labels);
- the same fitted per building with enough own pairs of its own (a store is judged
  against its own building's flats).

Then prior odds are the share of labels among the keys, fitted by EM over the keys (a
store with one chance close pair stays a store where labels are few). A key with no pair
of its own stays one advertiser, as the site's markup says. Where one flat's two ads and
two flats ask alike, a label cannot be told from a store, and stays one: it then costs
the flats that two of its stores show a second count (docs/units-method.md).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from pipeline.units.dedup import attribute_clusters
from pipeline.units.estimate import half_normal_mixture, half_normal_part, rounded_points
from pipeline.units.model import AdState
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

#: At most this many pairs of two keys go into the mixture fit (an even sample beyond):
#: a work budget, the fit's two rates are settled long before.
MAX_CROSS_PAIRS = 4_000
#: At most this many of one key's own pairs go into the keys' fit (an even sample
#: beyond): a work budget; n ads of a key in one look-alike group make n(n-1)/2 pairs,
#: far from as many independent facts.
MAX_OWN_PAIRS = 200
#: Own pairs a building needs for its two flats' spread to be fitted on its own (else it
#: is pooled with the other such buildings of the city): a definition of enough data.
MIN_BUILDING_PAIRS = 30
#: The keys' EM stops when no fitted figure moves more than this in a round (numeric).
CONVERGED = 1e-4
#: The group of the pooled buildings.
POOLED = -1
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


@dataclass(frozen=True, slots=True)
class TwoFlats:
    """How far apart two look-alike flats' ads lie, in one building (or in the buildings
    with too few pairs to fit their own): a close part (same-plan flats) of sd ``close``
    and share ``close_share``, and a far part (look-alike plans) of sd ``far``."""

    close: float
    far: float
    close_share: float

    def parts(self, points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
        """(likelihood, close part's share of it, and the two parts' expected squares)."""
        (pc, mc), (pf, mf) = (
            half_normal_part(points, self.close),
            half_normal_part(points, self.far),
        )
        two = self.close_share * pc + (1 - self.close_share) * pf
        return two, (self.close_share * pc / two if two > 0 else 0.0), mc, mf


def judge_keys(
    own: dict[str, list[tuple[int, float]]],
    narrow: float,
    halfwidth: float = 0.0,
    min_building_pairs: float = MIN_BUILDING_PAIRS,
    rounds: int = 40,
) -> dict[str, float]:
    """Each key's log likelihood ratio, label against one advertiser, under the keys'
    mixture fitted by EM: two look-alike flats' difference per building group, a label's
    share of one-flat pairs and the labels' share of the keys. ``own``: each key's own
    pairs as (building, absolute log-rent difference); ``narrow``: the sd of one flat's
    two ads' difference, fixed.

    Two flats' difference is fitted per building with at least ``min_building_pairs`` own
    pairs (a tower's same-plan flats lie far closer than a small building's look-alikes;
    a store's pairs are judged against its own building's), the other buildings pooled;
    it is never narrower than one flat's (both flats' ads carry the jitter). Started from
    every pair being two flats (each group's own two-part mixture), one-flat pairs a half
    of a label's, and one label among the keys."""
    counts: dict[int, int] = defaultdict(int)
    for pairs in own.values():
        for building, _ in pairs:
            counts[building] += 1
    group = {b: (b if n >= min_building_pairs else POOLED) for b, n in counts.items()}
    # a key's pairs as (group, difference); the parts are computed once per distinct
    # difference of a group and round (rounded rents repeat their differences)
    keyed = {k: [(group[b], x) for b, x in v] for k, v in own.items() if v}
    if not keyed:
        return {}
    points = {x: rounded_points(x, halfwidth) for v in keyed.values() for _, x in v}
    one_flat_part = {x: half_normal_part(pt, narrow)[0] for x, pt in points.items()}
    distinct: dict[int, set[float]] = defaultdict(set)
    diffs: dict[int, list[float]] = defaultdict(list)
    for v in keyed.values():
        for g, x in v:
            distinct[g].add(x)
            diffs[g].append(x)
    two_flats: dict[int, TwoFlats] = {}
    for g, xs in diffs.items():
        close, far, share = half_normal_mixture(xs)
        two_flats[g] = TwoFlats(max(close, narrow), max(far, close, narrow), share)
    one_flat = 0.5
    labels = 1 / (len(keyed) + 1)
    loglr: dict[str, float] = {}
    post: dict[str, float] = {}
    for _ in range(rounds):
        parts = {(g, x): two_flats[g].parts(points[x]) for g, xs in distinct.items() for x in xs}
        # per group: close and far parts' weight and expected squares
        stats: dict[int, list[float]] = {g: [0.0, 0.0, 0.0, 0.0] for g in two_flats}
        one_mass = label_pairs = 0.0
        for key, pairs in keyed.items():
            lr = 0.0
            resp: list[tuple[int, float, float, float, float, float]] = []
            for g, x in pairs:
                pn = one_flat_part[x]
                two, store_c, mc, mf = parts[(g, x)]
                mix = one_flat * pn + (1 - one_flat) * two
                if two > 0 and mix > 0:
                    lr += math.log(mix / two)
                elif mix > 0:
                    lr = math.inf
                label_n = one_flat * pn / mix if mix > 0 else 0.0
                resp.append((g, store_c, label_n, (1 - label_n) * store_c, mc, mf))
            loglr[key] = lr
            q = 1.0 if lr == math.inf else _posterior(lr, labels / (1 - labels))
            post[key] = q
            for g, store_c, label_n, label_c, mc, mf in resp:
                wc = (1 - q) * store_c + q * label_c
                wf = (1 - q) * (1 - store_c) + q * (1 - label_n - label_c)
                row = stats[g]
                row[0] += wc
                row[1] += wc * mc
                row[2] += wf
                row[3] += wf * mf
                one_mass += q * label_n
                label_pairs += q
        moved = 0.0
        for g, (wc, sc, wf, sf) in stats.items():
            old = two_flats[g]
            close = max(math.sqrt(sc / wc), narrow) if wc > 0 else old.close
            far = max(math.sqrt(sf / wf), close) if wf > 0 else old.far
            share = wc / (wc + wf) if wc + wf > 0 else old.close_share
            two_flats[g] = TwoFlats(close, far, share)
            moved = max(
                moved, abs(close - old.close), abs(far - old.far), abs(share - old.close_share)
            )
        new_one = one_mass / label_pairs if label_pairs > 0 else one_flat
        new_one = min(max(new_one, SHARE_GUARD), 1 - SHARE_GUARD)
        new_labels = min(max(sum(post.values()) / len(post), SHARE_GUARD), 1 - SHARE_GUARD)
        moved = max(moved, abs(new_one - one_flat), abs(new_labels - labels))
        one_flat, labels = new_one, new_labels
        if moved < CONVERGED:
            break
    return loglr


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
    own: dict[str, list[tuple[int, float]]] = {}
    for building, ads in enumerate(buildings):
        for cluster in attribute_clusters([a for a in ads if a.agent], params):
            for a, b in combinations(cluster, 2):
                diff = _log_diff(a, b, day)
                if diff is None:
                    continue
                if a.agent == b.agent:
                    assert a.agent is not None
                    own.setdefault(a.agent, []).append((building, diff))
                else:
                    cross.append(diff)
    pairs = {k: len(v) for k, v in sorted(own.items())}
    if len(cross) < 2:
        return SharedKeys(frozenset(), 0.0, 0.0, 0.0, pairs, len(cross))
    step = max(1, len(cross) // MAX_CROSS_PAIRS)
    narrow, wide, share = half_normal_mixture(
        cross[::step], halfwidth=halfwidth, narrow_sd=narrow_sd
    )
    sampled = {k: v[:: max(1, len(v) // MAX_OWN_PAIRS)] for k, v in own.items()}
    # the store hypothesis under each way of telling how far two flats lie: the key's
    # likelihood ratio is the least of them (a label must beat every one)
    pooled = judge_keys(sampled, narrow, halfwidth, math.inf)
    by_building = judge_keys(sampled, narrow, halfwidth)
    loglr = {
        key: min(
            _loglr([x for _, x in key_pairs], narrow, wide, share, halfwidth),
            pooled[key],
            by_building[key],
        )
        for key, key_pairs in sampled.items()
    }
    labels = label_share(list(loglr.values()))
    prior = math.log(labels / (1 - labels))
    shared = {key for key, lr in loglr.items() if lr + prior > 0}
    return SharedKeys(frozenset(shared), narrow, wide, share, pairs, len(cross))


def _loglr(diffs: list[float], narrow: float, wide: float, share: float, halfwidth: float) -> float:
    """A key's own pairs' log likelihood ratio, label against one advertiser, with two
    flats' difference the wide part of the pairs of two keys."""
    total = 0.0
    for x in diffs:
        points = rounded_points(x, halfwidth)
        one = half_normal_part(points, narrow)[0]
        two = half_normal_part(points, wide)[0]
        if two > 0:
            total += math.log(share * one / two + 1 - share)
        elif one > 0:
            return math.inf
    return total
