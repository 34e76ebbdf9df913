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
through two of its stores. Each key is judged by the Bayes factor of its own pairs
(``label_bayes_factor``): a label with its own unknown share of one-flat pairs against a
store with none, each pair weighted 1/(m - 1) for m of the key's ads in its look-alike
group (a pairwise composite likelihood: the group weighs as its ads, not as its pairs).

How far two flats of one key lie is the crux, and no one model of it holds in every
market: against the wide part of the pairs of two keys, a tower whose same-plan flats ask
nearly the same rent shows every store's own pairs as too close, and every store looked
like a label (zoo-02: 126 of 147 keys). So the pairs are weighed under three models of two
flats, and the least of the three Bayes factors stands (a label must beat each, as in a
test against a composite null):

- the wide part of the pairs of two keys;
- a two-part half-normal (same-plan flats, look-alike plans) fitted on the keys' own
  pairs, pooled over the city (``judge_keys``: the keys are a two-class mixture, fitted
  by EM together with the two-flat spread, from two starts);
- the same fitted per building with enough own pairs of its own (a store is judged
  against its own building's flats).

A pair whose two ads both went up while the building was watched weighs its days apart
too: one flat's two ads go up within the agencies' lags of each other (a two-sided
geometric, fitted on the fresh pairs of two keys: ``fresh_cross_lags``), two flats on
unrelated days (two draws from the ages of the building's live ads: ``estimate.UpDays``).
That tells a label from a store where rents cannot: zoo-04's agencies ask ±4.6 % around a
flat while its same-plan flats ask within ±2.2 %, and its brand-only key (about three
stores, 30 % of the ads) kept the one-advertiser rule. Early in a watch every fresh pair
lies a few days apart under both models, and the days weigh nothing.

Then prior odds are the share of labels among the keys, fitted by EM over the keys (a
store with one chance close pair stays a store where labels are few). A key with no pair
of its own stays one advertiser, as the site's markup says. Where neither rents nor days
tell a label from a store, it stays one: it then costs the flats that two of its stores
show a second count (docs/units-method.md).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from pipeline.dates import days_between
from pipeline.units.dedup import attribute_clusters
from pipeline.units.estimate import (
    MIN_PAIRS,
    LagFit,
    UpDays,
    half_normal_mixture,
    half_normal_part,
    lag_mixture,
    rounded_points,
)
from pipeline.units.model import AdState
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

#: At most this many pairs of two keys go into the mixture fit (an even sample beyond):
#: a work budget, the fit's two rates are settled long before.
MAX_CROSS_PAIRS = 4_000
#: At most this many of one key's own pairs are weighed (an even sample beyond, each
#: kept pair weighing for those it stands for): a work budget. A label's one-flat pairs
#: are a few among many (zoo-04: 285 of 1,992), and a sample of 200 left too few of them
#: to tell it from a store.
MAX_OWN_PAIRS = 2_000
#: Own pairs a building needs for its two flats' spread to be fitted on its own (else it
#: is pooled with the other such buildings of the city): a definition of enough data.
MIN_BUILDING_PAIRS = 30
#: Log-rent differences are kept to this step (0.1 % of the rent), so that the mixtures'
#: parts are computed once per step and round, not once per pair: a work budget, a tenth
#: of the narrowest spread fitted on the zoo and well under a rounding of 10 元.
DIFF_STEP = 1e-3
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
    #: one flat's listing lags fitted on the fresh pairs of two keys (None: too few), and
    #: how many such pairs
    lags: LagFit | None = None
    fresh_cross_pairs: int = 0


@dataclass(frozen=True, slots=True)
class OwnPair:
    """Two look-alike ads of one key: their building, absolute log-rent difference, and
    how much likelier their days apart are for one flat's two ads than for two flats'
    (1.0 where the days say nothing: an ad up before watching began, or lags not fitted)."""

    building: int
    diff: float
    timing: float = 1.0
    #: the pair's weight in the key's pairwise likelihood: 1/(m - 1) for m of the key's
    #: ads in one look-alike group (times the sampling step), so that the group weighs
    #: as its m/2 ads, not as its m(m - 1)/2 pairs
    weight: float = 1.0


def timing_ratio(lag: int | None, window: int, lags: LagFit | None, up_days: UpDays) -> float:
    """One flat's chance of two ads going up ``lag`` days apart over two flats'
    (``OwnPair.timing``), in a watch of ``window`` days; 1.0 without a lag."""
    if lags is None or lag is None:
        return 1.0
    two = up_days.unrelated(lag, window)
    # a lag as long as the watch cannot be two days of it: the dates say nothing then
    return lags.pmf(lag) / two if two > 0 else 1.0


def fresh_cross_lags(fresh: list[tuple[int, float]]) -> LagFit | None:
    """One flat's listing lags from the pairs of two keys that both went up while watched
    (days apart, two flats' chance of those days): the lag mixture, None until the pairs
    it gives to one flat are enough. The de-duplication's own lag fit reads only
    look-alike groups of two ads, which a market of many advertisers per flat seldom
    shows (zoo-04: 33-48 a day, too few). By the days alone: weighed by their rents too,
    same-plan flats that ask as alike as one flat's two ads were taken for one flat, and
    zoo-04's fitted decay drifted from 0.49 to 0.85 (0.26-0.33 by the days, about 0.31 in
    truth)."""
    fit = lag_mixture(fresh)
    return fit if fit.one_flat * len(fresh) >= MIN_PAIRS else None


def _log_diff(a: AdState, b: AdState, day: str) -> float | None:
    """The absolute log-rent difference, to DIFF_STEP."""
    ra, rb = a.rents.get(day), b.rents.get(day)
    if not ra or not rb:
        return None
    return round(abs(math.log(ra / rb)) / DIFF_STEP) * DIFF_STEP


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
    own: dict[str, list[OwnPair]],
    narrow: float,
    halfwidth: float = 0.0,
    min_building_pairs: float = MIN_BUILDING_PAIRS,
    rounds: int = 40,
    stores_first: Collection[str] | None = None,
) -> dict[str, float]:
    """Each key's log Bayes factor, label against one advertiser (``label_bayes_factor``),
    under two look-alike flats' difference fitted per building group by EM on the keys'
    mixture (with a label's share of one-flat pairs and the labels' share of the keys). ``own``: each key's own
    pairs; ``narrow``: the sd of one flat's two ads' difference, fixed. A pair's timing
    multiplies its one-flat likelihood (days apart and rents are taken as independent
    given the flat or flats).

    Two flats' difference is fitted per building with at least ``min_building_pairs`` own
    pairs (a tower's same-plan flats lie far closer than a small building's look-alikes;
    a store's pairs are judged against its own building's), the other buildings pooled;
    it is never narrower than one flat's (both flats' ads carry the jitter). Started from
    every pair being two flats (each group's own two-part mixture), one-flat pairs a half
    of a label's, and one label among the keys; and, with ``stores_first``, from those
    keys' pairs alone being two flats."""
    counts: dict[int, int] = defaultdict(int)
    for key_pairs in own.values():
        for pair in key_pairs:
            counts[pair.building] += 1
    group = {b: (b if n >= min_building_pairs else POOLED) for b, n in counts.items()}
    # a key's pairs as (group, difference, timing, weight); the parts are computed once
    # per distinct difference of a group and round (differences repeat: DIFF_STEP)
    keyed = {
        k: [(group[p.building], p.diff, p.timing, p.weight) for p in v] for k, v in own.items() if v
    }
    if not keyed:
        return {}
    points = {x: rounded_points(x, halfwidth) for v in keyed.values() for _, x, _, _ in v}
    one_flat_part = {x: half_normal_part(pt, narrow)[0] for x, pt in points.items()}
    distinct: dict[int, set[float]] = defaultdict(set)
    diffs: dict[int, list[float]] = defaultdict(list)
    for v in keyed.values():
        for g, x, _, _ in v:
            distinct[g].add(x)
            diffs[g].append(x)

    def start(keys: Collection[str]) -> dict[int, TwoFlats]:
        by_group: dict[int, list[float]] = defaultdict(list)
        for key in keys:
            for g, x, _, _ in keyed[key]:
                by_group[g].append(x)
        fits = {}
        for g, xs in diffs.items():
            close, far, share = half_normal_mixture(by_group[g] if len(by_group[g]) > 1 else xs)
            fits[g] = TwoFlats(max(close, narrow), max(far, close, narrow), share)
        return fits

    def fit(two_flats: dict[int, TwoFlats], labels: float) -> tuple[dict[int, TwoFlats], float]:
        """The EM from a start; the fitted two flats and the keys' log likelihood."""
        one_flat = 0.5
        loglik = -math.inf
        for _ in range(rounds):
            parts = {
                (g, x): two_flats[g].parts(points[x]) for g, xs in distinct.items() for x in xs
            }
            # per group: close and far parts' weight and expected squares
            stats: dict[int, list[float]] = {g: [0.0, 0.0, 0.0, 0.0] for g in two_flats}
            one_mass = label_pairs = 0.0
            post: dict[str, float] = {}
            loglik = 0.0
            for key, pairs in keyed.items():
                lr = store = 0.0
                resp: list[tuple[int, float, float, float, float, float, float]] = []
                for g, x, timing, weight in pairs:
                    two, store_c, mc, mf = parts[(g, x)]
                    pn = one_flat_part[x] * timing
                    mix = one_flat * pn + (1 - one_flat) * two
                    if two > 0 and mix > 0:
                        lr += weight * math.log(mix / two)
                        store += weight * math.log(two)
                    elif mix > 0:
                        lr = math.inf
                    label_n = one_flat * pn / mix if mix > 0 else 0.0
                    resp.append((g, store_c, label_n, (1 - label_n) * store_c, mc, mf, weight))
                q = 1.0 if lr == math.inf else _posterior(lr, labels / (1 - labels))
                post[key] = q
                loglik += store + _log_mixture(lr, labels)
                for g, store_c, label_n, label_c, mc, mf, weight in resp:
                    wc = weight * ((1 - q) * store_c + q * label_c)
                    wf = weight * ((1 - q) * (1 - store_c) + q * (1 - label_n - label_c))
                    row = stats[g]
                    row[0] += wc
                    row[1] += wc * mc
                    row[2] += wf
                    row[3] += wf * mf
                    one_mass += weight * q * label_n
                    label_pairs += weight * q
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
        return two_flats, loglik

    # EM finds a local optimum: from every key a store, two flats' close part may settle
    # on a label's one-flat pairs (two flats then ask as one flat does, and the label is
    # lost); from the stores of the cross model's call, it may not. The likelier stands.
    few = 1 / (len(keyed) + 1)
    two_flats, best = fit(start(keyed), few)
    if stores_first is not None:
        stores = [k for k in keyed if k in stores_first]
        if stores and len(stores) < len(keyed):
            other, loglik = fit(start(stores), max(few, 1 - len(stores) / len(keyed)))
            if loglik > best:
                two_flats = other
    parts = {(g, x): two_flats[g].parts(points[x]) for g, xs in distinct.items() for x in xs}
    # the call: each key's own share of one-flat pairs (labels differ in how many stores
    # they hide), under the fitted two flats
    judged: dict[str, float] = {}
    for key, pairs in keyed.items():
        ratios = []
        for g, x, timing, _ in pairs:
            two = parts[(g, x)][0]
            one = one_flat_part[x] * timing
            ratios.append(one / two if two > 0 else (math.inf if one > 0 else 1.0))
        judged[key] = label_bayes_factor(ratios, [w for _, _, _, w in pairs])
    return judged


#: Nodes of Simpson's rule over the share of one-flat pairs (odd): a numeric budget; the
#: integrand is log-concave and the nodes span its peak.
SHARE_NODES = 81


def label_bayes_factor(ratios: list[float], weights: list[float] | None = None) -> float:
    """Label against one advertiser, from a key's own pairs' likelihood ratios (one flat
    over two) and weights (``OwnPair.weight``): the log Bayes factor of a label whose
    share s of one-flat pairs is unknown (uniform on 0..1), its pairs' weighted log
    likelihood sum of w log(s r + 1 - s), against a store (s = 0). A label is judged on
    its own share, not on one share for every label (a label over two stores shows few
    one-flat pairs, over ten many); a store's pairs weigh against it, and one chance
    close pair weighs little (a single pair of ratio r gives log((r + 1) / 2))."""
    if not ratios:
        return 0.0
    if math.inf in ratios:
        return math.inf
    w = weights or [1.0] * len(ratios)
    terms = list(zip(w, [r - 1 for r in ratios], strict=True))

    def loglik(share: float) -> float:
        return sum(wi * math.log(1 + share * d) for wi, d in terms)

    def slope(share: float) -> float:
        return sum(wi * d / (1 + share * d) for wi, d in terms)

    # the log likelihood is concave in s: its peak by bisection of the slope
    if slope(0.0) <= 0:
        best = 0.0
    elif all(d > -1 for _, d in terms) and slope(1.0) >= 0:
        best = 1.0
    else:
        low, high = 0.0, 1.0
        for _ in range(60):
            mid = (low + high) / 2
            low, high = (mid, high) if slope(mid) > 0 else (low, mid)
        best = (low + high) / 2
    curvature = sum(wi * d * d / (1 + best * d) ** 2 for wi, d in terms)
    width = min(
        1 / math.sqrt(curvature) if curvature > 0 else 1.0,
        1 / abs(slope(best)) if slope(best) != 0 else 1.0,
    )
    start, stop = max(0.0, best - 12 * width), min(1.0, best + 12 * width)
    # a ratio of 0 makes s = 1 impossible: stay a node short of it
    if any(d <= -1 for _, d in terms):
        stop = min(stop, 1 - 1e-12)
    peak = loglik(best)
    h = (stop - start) / (SHARE_NODES - 1)
    total = 0.0
    for k in range(SHARE_NODES):
        coef = 1 if k in (0, SHARE_NODES - 1) else (4 if k % 2 else 2)
        total += coef * math.exp(loglik(start + k * h) - peak)
    area = total * h / 3
    return peak + math.log(area) if area > 0 else peak


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


def _log_mixture(loglr: float, share: float) -> float:
    """log((1 - share) + share e^loglr), a key's likelihood over its store likelihood."""
    if loglr == math.inf:
        return math.inf
    a, b = math.log(1 - share), math.log(share) + loglr
    top = max(a, b)
    return top + math.log(math.exp(a - top) + math.exp(b - top))


def _posterior(loglr: float, odds: float) -> float:
    z = loglr + math.log(odds)
    return 1 / (1 + math.exp(-z)) if z > -700 else 0.0


def _up(ad: AdState) -> str:
    return ad.created or ad.first_seen


def shared_keys(
    buildings: Iterable[list[AdState]],
    day: str,
    halfwidth: float = 0.0,
    params: MarketParams = DEFAULT_PARAMS,
    narrow_sd: float | None = None,
    first_watched: Sequence[str | None] | None = None,
) -> SharedKeys:
    """Judge every advertiser key of these buildings' ads of ``day``; ``halfwidth``: the
    rounding step over the rent (pipeline.units.estimate.robust_jitter); ``narrow_sd``:
    the sd of one flat's two ads' difference when known (sqrt(2) jitters);
    ``first_watched``: each building's first day watched (then pairs of ads that both
    went up since weigh their days apart too)."""
    cross: list[float] = []
    fresh_cross: list[tuple[int, float, int, int]] = []
    own_days: dict[str, list[tuple[int, float, int | None, int, float]]] = {}
    ages: dict[int, list[int]] = {}
    for building, ads in enumerate(buildings):
        since = first_watched[building] if first_watched is not None else None
        window = days_between(since, day) if since is not None else 0
        if since is not None:
            ages[building] = [days_between(_up(a), day) for a in ads if _up(a) > since]
        for cluster in attribute_clusters([a for a in ads if a.agent], params):
            per_key = Counter(a.agent for a in cluster if a.rents.get(day))
            for a, b in combinations(cluster, 2):
                diff = _log_diff(a, b, day)
                if diff is None:
                    continue
                fresh = since is not None and min(_up(a), _up(b)) > since
                lag = abs(days_between(_up(a), _up(b))) if fresh else None
                if a.agent == b.agent:
                    assert a.agent is not None
                    weight = 1 / (per_key[a.agent] - 1)
                    own_days.setdefault(a.agent, []).append((building, diff, lag, window, weight))
                else:
                    cross.append(diff)
                    if lag is not None:
                        fresh_cross.append((building, diff, lag, window))
    pairs = {k: len(v) for k, v in sorted(own_days.items())}
    if len(cross) < 2:
        return SharedKeys(frozenset(), 0.0, 0.0, 0.0, pairs, len(cross))
    step = max(1, len(cross) // MAX_CROSS_PAIRS)
    narrow, wide, share = half_normal_mixture(
        cross[::step], halfwidth=halfwidth, narrow_sd=narrow_sd
    )
    up_days = UpDays.per_building(ages)
    lags = fresh_cross_lags(
        [
            (lag, up_days[b].unrelated(lag, w))
            for b, _, lag, w in fresh_cross[:: max(1, len(fresh_cross) // MAX_CROSS_PAIRS)]
        ]
    )
    sampled = {}
    for key, v in own_days.items():
        step = max(1, len(v) // MAX_OWN_PAIRS)
        sampled[key] = [
            OwnPair(b, x, timing_ratio(lag, w, lags, up_days.get(b, UpDays())), weight * step)
            for b, x, lag, w, weight in v[::step]
        ]
    # the store hypothesis under each way of telling how far two flats lie: the key's
    # likelihood ratio is the least of them (a label must beat every one)
    cross_model = {key: _loglr(v, narrow, wide, halfwidth) for key, v in sampled.items()}
    stores = {key for key, lr in cross_model.items() if lr <= 0}
    pooled = judge_keys(sampled, narrow, halfwidth, math.inf, stores_first=stores)
    by_building = judge_keys(sampled, narrow, halfwidth, stores_first=stores)
    loglr = {key: min(cross_model[key], pooled[key], by_building[key]) for key in sampled}
    labels = label_share(list(loglr.values()))
    prior = math.log(labels / (1 - labels))
    shared = {key for key, lr in loglr.items() if lr + prior > 0}
    return SharedKeys(
        frozenset(shared), narrow, wide, share, pairs, len(cross), lags, len(fresh_cross)
    )


def _loglr(pairs: list[OwnPair], narrow: float, wide: float, halfwidth: float) -> float:
    """A key's own pairs' log likelihood ratio, label against one advertiser, with two
    flats' difference the wide part of the pairs of two keys."""
    ratios = []
    for pair in pairs:
        points = rounded_points(pair.diff, halfwidth)
        one = half_normal_part(points, narrow)[0] * pair.timing
        two = half_normal_part(points, wide)[0]
        ratios.append(one / two if two > 0 else (math.inf if one > 0 else 1.0))
    return label_bayes_factor(ratios, [p.weight for p in pairs])
