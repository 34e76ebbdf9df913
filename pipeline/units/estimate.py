"""The market's parameters fitted from the day's own ads, and the number of flats behind them.

Pure: plain values in, plain values out (docs/units-method.md, "The count and its interval").

1. **Calibration.** A look-alike group (same building, look and area chain:
   ``attribute_clusters``) whose ads are of distinct advertisers and within one flat's
   jitter of one another can be one flat's ads. Where enough such groups came on offer
   whole while watched (``fresh_flats``) they are one flat each and alone make the
   sample; else every such group counts, weighted by its chance of being one flat
   (``one_flat_weights``). Over those flats of a city: how many advertisers show a flat
   (its distribution and mean), the agencies' rent jitter around a flat (pooled
   within-flat variance of log rents), and how far a flat's first ads went up apart
   (listing lags). Per building the mean is shrunk toward the city's by the
   normal-normal empirical Bayes of Morris (1983): a building with few calibration flats
   keeps nearly the city's mean.
2. **Capture–recapture.** Each advertiser ``a`` of a building lists a flat of it with
   probability ``p_a`` = (the building's mean advertisers per flat) x (``a``'s share of the
   building's ads): its share of the ads is seen on every flat, not only on calibration
   flats. In a look-alike group with ``n_a`` ads of advertiser ``a`` (one advertiser never
   lists one flat twice at once: a site fact) the number of flats ``K`` has the
   likelihood prod_a Binomial(n_a; K, p_a) — model M_t of capture–recapture (Otis et al.
   1978), the advertisers as capture occasions — for ``K`` from the fewest flats the
   ads can be (the busiest advertiser's ads, and the rents: ads further apart than one
   flat's jitter allows are two flats) to the number of ads (a flat on offer has an ad).
   The advertisers are not independent given a flat (every flat on offer has at least
   one), so the product is a composite likelihood, and it is tempered by the ratio of the
   calibration flats' variance of advertisers per flat to the variance the product
   implies (the magnitude adjustment of composite likelihoods, Varin, Reid & Firth 2011).
3. **Posterior.** A flat prior over the allowed ``K`` gives each group's posterior; the
   groups of a building are independent, so the building's is their convolution, mixed
   over the uncertainty of the mean advertisers per flat (three-point Gauss–Hermite). The
   point estimate is its mean, the interval its 5 % and 95 % quantiles.

Nothing here is a value of the project's simulator: every number is fitted, a quantile
of a stated level, or a prior used only before any data (``PRIOR_*``).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from pipeline.dates import days_between
from pipeline.units.dedup import attribute_clusters
from pipeline.units.model import AdState, UnitState
from pipeline.units.params import DEFAULT_PARAMS, MarketParams

#: The interval's level: a 90 % interval, 5 % left out on each side.
INTERVAL_TAIL = 0.05
#: z of the normal interval's 5 % and 95 % quantiles.
Z_INTERVAL = 1.6449
#: A flat's ads are further apart than this many standard deviations of the agencies'
#: jitter (in log rent) with a chance under 0.5 % (two normal draws: |Z| > 2.83), so
#: farther ads are two flats. A definition of "too far", not a fitted value.
JITTER_WIDTH_SD = 4.0
#: Ads per flat before any calibration flat was seen (the first day of a new city):
#: a weak prior, one more than the fewest possible, used only without data.
PRIOR_MEAN_ADS = 2.0
PRIOR_JITTER = 0.02
#: Weight, in calibration flats, of the model's own variance of advertisers per flat in
#: the tempering of its likelihood: a prior, decisive only with few flats.
PRIOR_DOF = 2
#: A number of matched units needs this many groups in the city that day for its own
#: prior (a definition of enough data for an EM fit of two moments).
MIN_CLASS = 30
#: Least variance of the de-duplication's error in a group, in flats squared: a numeric
#: guard (a moment estimate can come out at zero or below).
VAR_FLOOR = 0.01
#: Pairs of look-alike ads needed before their robust jitter replaces the calibration
#: flats' (a definition of enough data for a median).
MIN_PAIRS = 30
#: A flat's ads go up within the days that hold this share of its fitted lags.
LAG_QUANTILE = 0.9
#: A fresh calibration flat's ads went up within the days that hold this share of a
#: flat's lags: a flat whose last agency came later is left out of the sample, and the
#: more such flats, the fewer ads per flat it shows (zoo-02 at 2 days: 2.06 ads a flat,
#: at 3-4: 2.22-2.25, truly 2.14-2.21 for its one-flat groups), while a group of two flats
#: seldom comes on offer within a few more days.
FRESH_QUANTILE = 0.99
#: The de-duplication's rent tolerances in jitters (sd of an ad's log rent around its
#: flat's): all of a flat's ads within JITTER_WIDTH_SD of one another, each within
#: RENT_TOL_SD of the unit's median (uniform jitter of half-width j spans 2j = 3.46 sd).
RENT_TOL_SD = 3.5
#: No advertiser lists a flat with certainty here: a numeric guard (log(1 - p)).
P_MAX = 0.995
#: Probability mass below which a posterior's tail is dropped (numeric).
NEGLIGIBLE = 1e-9


@dataclass(slots=True)
class CityFit:
    """What the day's ads of one city say about its market."""

    city: str
    #: calibration flats and the mean, variance and distribution of advertisers per flat
    flats: int = 0
    #: what the calibration flats were: "fresh" (look-alike groups whose ads all went up
    #: after watching began, within FRESH_QUANTILE of a flat's lags), "weighted" (every group
    #: that can be one flat, weighted by its chance of being one), "all" (the same, before
    #: the rent spread is known) or "prior"
    calibration: str = "prior"
    mean_ads: float = PRIOR_MEAN_ADS
    var_ads: float = PRIOR_MEAN_ADS
    #: the calibration flats' plain mean of advertisers per flat, beside the weighed one (the
    #: interval's second reading, pipeline.units.interval)
    mean_ads_unweighted: float = PRIOR_MEAN_ADS
    ads_dist: dict[int, float] = field(default_factory=dict)
    #: pooled within-flat sd of log rent, and the number of ads beyond a flat's first
    jitter: float = PRIOR_JITTER
    jitter_n: int = 0
    #: the sd in log rent that the market's rounding of rents alone adds (a floor of jitter),
    #: and the rounding step over the median rent (robust_jitter's ``halfwidth``)
    rounding_sd: float = 0.0
    rounding_halfwidth: float = 0.0
    #: what the jitter was fitted on: "pairs" (of two-ad look-alike groups), "flats" (the
    #: calibration flats' rents), "given" (known_jitter), or "prior"
    jitter_source: str = "prior"
    #: days within which a flat's ads go up: LAG_QUANTILE of the fitted lags (lag_mixture)
    join_days: int | None = None
    #: shares of a flat's later advertisers going up 0, 1, 2, ... days after its first
    lags: dict[int, float] = field(default_factory=dict)
    lags_n: int = 0
    #: reposts (an advertiser's new id for a flat it showed) per ad-day, and ad-days
    repost_rate: float = 0.0
    ad_days: int = 0
    #: share of let flats (units whose ads all came down) whose advertisers removed them
    #: more than a day apart, and how many such flats
    linger_share: float = 0.0
    ended: int = 0
    #: the 95th percentile of the price cuts seen on ads (a landlord's cut), and how many
    cut_max: float = 0.0
    cuts: int = 0
    #: days within which a flat's other advertisers follow its first advertiser's cut
    #: (LAG_QUANTILE of those days), and how many followers were seen
    cut_follow_days: int | None = None
    cut_follows: int = 0
    #: between-building variance of the mean advertisers per flat (empirical Bayes)
    between_var: float = 0.0
    #: composite likelihood's tempering (variance observed / variance implied)
    dispersion: float = 1.0


@dataclass(slots=True)
class BuildingFit:
    building_id: int
    flats: int
    mean_ads: float
    mean_se: float
    shares: dict[str, float]


@dataclass(slots=True)
class Estimate:
    """A building's flats on offer: the posterior mean and the 90 % interval."""

    units: float
    low: int
    high: int
    groups: int
    #: the fitted mean flats per look-alike group (the prior of each group's count)
    crowding: float = 1.0
    #: the posterior's standard deviation
    sd: float = 0.0


def advertiser(ad: AdState) -> str:
    return ad.agent or f"?{ad.id}"


def live_ads(units: list[UnitState], day: str) -> list[AdState]:
    """The unflagged ads seen today of these live whole-flat units."""
    return [a for u in units for a in u.ads if a.seen_on(day) and not a.flags]


def calibration_flats(
    units: list[UnitState], day: str, p: MarketParams, width: float | None = None
) -> list[list[AdState]]:
    """Look-alike groups whose ads can be one flat's: of distinct advertisers, and within
    ``width`` of one another in log rent (one flat's jitter; without ``width``: the groups
    the de-duplication made one unit of). Chosen by their rents and advertisers, not by
    the units, so that a flat the de-duplication split (more often one with many ads)
    does not leave the sample."""
    ads = live_ads(units, day)
    unit_of = {a.id: u for u in units for a in u.ads}
    flats = []
    for cluster in attribute_clusters(ads, p):
        agents = [advertiser(a) for a in cluster]
        if len(set(agents)) != len(agents):
            continue
        if width is None:
            if len({id(unit_of[a.id]) for a in cluster}) == 1:
                flats.append(cluster)
            continue
        logs = [math.log(r) for a in cluster if (r := a.rents.get(day))]
        if logs and max(logs) - min(logs) <= width:
            flats.append(cluster)
    return flats


def fresh_flats(
    flats: list[list[AdState]], first_watched: str | None, day: str, horizon: int
) -> list[list[AdState]]:
    """The calibration groups that came on the market whole while they were watched: every
    ad went up after ``first_watched``, all within ``horizon`` days (the flat's listing
    lags) of the first, and the first at least ``horizon`` days before ``day`` (its later
    advertisers had the time to come).

    Two look-alike flats of one building seldom come on offer within a few days of each
    other, so such a group is almost always one flat, whatever its number of ads; every
    other group that can be one flat is that much less likely to be one the more ads it
    has, and weighing that chance leans on the very mean being fitted."""
    if first_watched is None:
        return []
    out = []
    for flat in flats:
        ups = [a.created or a.first_seen for a in flat]
        first, last = min(ups), max(ups)
        if (
            first > first_watched
            and days_between(first, last) <= horizon
            and days_between(first, day) >= horizon
        ):
            out.append(flat)
    return out


def _lags(units: list[UnitState], first_watched: str | None, day: str, horizon: int) -> list[int]:
    """Days each later advertiser of a flat went up after the flat's first ad, over the
    units that came on the market after watching began (their first ads were seen) and
    at least ``horizon`` days before ``day`` (a younger flat's later ads may not be up
    yet: counting it would favour short lags)."""
    lags: list[int] = []
    for unit in units:
        if unit.outside or first_watched is None:
            continue
        first_by_agent: dict[str, str] = {}
        for a in unit.ads:
            up = a.created or a.first_seen
            key = advertiser(a)
            first_by_agent[key] = min(first_by_agent.get(key, up), up)
        days = sorted(first_by_agent.values())
        if days[0] <= first_watched or days_between(days[0], day) < horizon:
            continue
        lags.extend(
            days_between(days[0], d) for d in days[1:] if days_between(days[0], d) <= horizon
        )
    return lags


def pairs(
    ads: list[AdState], day: str, p: MarketParams, since: str | None = None
) -> list[tuple[float, int | None]]:
    """(log-rent difference, days between going up) of the look-alike groups of exactly two
    ads, by two advertisers: mostly one flat's two ads, seen apart from any grouping (the
    de-duplication's tolerances do not truncate them); a share are two flats, which the
    robust estimates below shrug off."""
    out = []
    for cluster in attribute_clusters(ads, p):
        if len(cluster) != 2 or advertiser(cluster[0]) == advertiser(cluster[1]):
            continue
        a, b = cluster
        ra, rb = a.rents.get(day), b.rents.get(day)
        if not ra or not rb:
            continue
        up_a, up_b = a.created or a.first_seen, b.created or b.first_seen
        # the lag only of flats put up after watching began (an ad up before may be a repost)
        fresh = since is not None and min(up_a, up_b) > since
        lag = abs(days_between(up_a, up_b)) if fresh else None
        out.append((abs(math.log(ra / rb)), lag))
    return out


@dataclass(frozen=True, slots=True)
class LagFit:
    """Days apart that one flat's two ads go up: a two-sided geometric of decay ``decay``
    (the difference of two agencies' waits), and the share of the pairs that are one
    flat's (the rest: two look-alike flats that came on offer on unrelated days)."""

    decay: float
    one_flat: float

    def pmf(self, d: int) -> float:
        r = self.decay
        if d == 0:
            return (1 - r) / (1 + r)
        return 2 * (1 - r) * r**d / (1 + r)

    def quantile(self, q: float) -> int:
        """The fewest days holding at least ``q`` of one flat's lags."""
        if self.decay <= 0:
            return 0
        # P(lag > L) = 2 r^(L+1) / (1 + r)
        tail = math.log((1 - q) * (1 + self.decay) / 2) / math.log(self.decay) - 1
        return max(0, math.ceil(tail - 1e-9))

    def shares(self, most: int) -> dict[int, float]:
        """One flat's lags 0..``most``, as shares summing to one."""
        mass = [self.pmf(d) for d in range(most + 1)]
        total = sum(mass)
        return {d: m / total for d, m in enumerate(mass)}


@dataclass(frozen=True, slots=True)
class UpDays:
    """How many days before the day a building's live ads went up (their ages), over the
    ads put up after it was first watched: two look-alike flats that came on offer on
    unrelated days are two draws from it. Not uniform over the watch: an ad up for long
    had the time to be let and taken down, so today's ads are mostly young; and a
    building empties at its own pace (an emptying tower's flats come on offer late). Two
    of its flats go up closer together than two uniform days would (the triangle ``None``
    stands for, where the ages are not known), and closer than two of the city's."""

    #: shares of the ads aged 0, 1, 2, ... days
    ages: tuple[float, ...] | None = None

    @classmethod
    def of(cls, ages: list[int]) -> UpDays:
        if not ages:
            return cls()
        tally = Counter(ages)
        # half an ad on each unseen age up to the oldest: a numeric guard, so that a lag
        # the day's few ads happen not to show keeps a chance
        counts = [tally.get(a, 0.5) for a in range(max(ages) + 1)]
        total = sum(counts)
        return cls(tuple(c / total for c in counts))

    @classmethod
    def per_building(cls, ages: dict[int, list[int]]) -> dict[int, UpDays]:
        """Each building's ages where it has MIN_CLASS fresh ads or more, else the
        city's (the buildings' pooled)."""
        city = cls.of([a for v in ages.values() for a in v])
        return {b: cls.of(v) if len(v) >= MIN_CLASS else city for b, v in ages.items()}

    def unrelated(self, lag: int, window: int) -> float:
        """The chance that two ads of a ``window`` days' watch (ages 0 .. window - 1) went
        up ``lag`` days apart."""
        width = max(window, 1)
        if lag >= width:
            return 0.0
        if self.ages is None:
            return (width if lag == 0 else 2 * (width - lag)) / width**2
        g = self.ages[:width]
        inside = sum(g)
        if inside <= 0:
            return 0.0
        same = sum(g[a] * g[a + lag] for a in range(len(g) - lag))
        return (same if lag == 0 else 2 * same) / inside**2


def lag_mixture(pairs: list[tuple[int, float]], rounds: int = 200) -> LagFit:
    """One flat's listing lags, from fresh pairs' (days apart, the chance of those days
    apart for two flats: ``UpDays.unrelated``). A pair of two ads of one look-alike group
    is one flat's (a geometric in the days apart) or two flats' that came on offer on
    unrelated days: then the two days are two draws from the building's ads' ages. The
    mixture is fitted by EM. Without the
    second part, the share of two-flat pairs grows as the watch goes on, and the 90 %
    quantile of the raw lags with it: zoo-02's join_days went from 2 to 9-17 days from
    the 18th day on, letting a tower's new ads join flats put up a fortnight before."""
    decay, share = 0.5, 0.5
    for _ in range(rounds):
        fit = LagFit(decay, share)
        weight = lagged = 0.0
        for lag, unrelated in pairs:
            one = share * fit.pmf(lag)
            two = (1 - share) * unrelated
            r = one / (one + two) if one + two > 0 else 1.0
            weight += r
            lagged += r * lag
        new_share = weight / len(pairs) if pairs else share
        # maximum likelihood of the two-sided geometric: D r^2 + 2 S r - D = 0
        new_decay = (math.sqrt(weight**2 + lagged**2) - weight) / lagged if lagged > 0 else 0.0
        settled = abs(new_decay - decay) < 1e-7 and abs(new_share - share) < 1e-7
        decay, share = new_decay, new_share
        if settled:
            break
    return LagFit(decay, share)


def robust_jitter(diffs: list[float], rounds: int = 50, halfwidth: float = 0.0) -> float:
    """The sd of one ad's log rent around its flat's, from pairs' absolute log-rent
    differences: the narrow part of ``half_normal_mixture`` is one flat's two ads
    (difference sd: sqrt(2) jitters), the wide part two flats of one plan. The jitter
    before rounding (``rounding_sd`` adds that)."""
    narrow, _, _ = half_normal_mixture(diffs, rounds, halfwidth)
    return narrow / math.sqrt(2)


def half_normal_mixture(
    diffs: list[float], rounds: int = 50, halfwidth: float = 0.0, narrow_sd: float | None = None
) -> tuple[float, float, float]:
    """(narrow sd, wide sd, narrow share) of absolute differences, fitted as a two-part
    mixture of half-normals by EM, started from the median (0.6745 sd of a half-normal);
    ``narrow_sd``: the narrow part's sd when it is known, only the rest fitted.

    ``halfwidth``: the rounding step over the rent, when both rents were rounded to it.
    A shown difference d is then the true one plus the difference of two rounding errors,
    which is triangular on [-h, h]; each part's likelihood is its density smoothed by that
    triangle and its second moment the posterior one, by quadrature (the EM of grouped
    data, Dempster, Laird & Rubin 1977, section 4.2). Without it, a market rounding to
    100 元 shows one flat's two ads at the same rent so often that the narrow part shrinks
    to nothing. The sds are of the true differences, before rounding."""
    narrow = (
        narrow_sd
        if narrow_sd is not None
        else max(statistics.median(diffs) / 0.6745, halfwidth, 1e-4)
    )
    wide = max(3 * narrow, max(diffs))
    share = 0.5
    # rounded rents repeat their differences: each distinct one is weighed once, times its
    # count
    tally = Counter(diffs)
    counts = list(tally.values())
    nodes = [rounded_points(x, halfwidth) for x in tally]

    for _ in range(rounds):
        resp: list[float] = []
        moments: list[tuple[float, float]] = []
        for points in nodes:
            (pn, mn), (pw, mw) = half_normal_part(points, narrow), half_normal_part(points, wide)
            a, b = share * pn, (1 - share) * pw
            resp.append(a / (a + b) if a + b > 0 else 1.0)
            moments.append((mn, mw))
        total = sum(c * r for c, r in zip(counts, resp, strict=True))
        if total <= 0 or total >= len(diffs):
            break
        share = total / len(diffs)
        if narrow_sd is None:
            narrow = max(
                math.sqrt(
                    sum(c * r * mn for c, r, (mn, _) in zip(counts, resp, moments, strict=True))
                    / total
                ),
                1e-4,
            )
        wide = max(
            math.sqrt(
                sum(c * (1 - r) * mw for c, r, (_, mw) in zip(counts, resp, moments, strict=True))
                / (len(diffs) - total)
            ),
            narrow,
        )
    return narrow, wide, share


#: Quadrature points over a rounded difference's triangle (midpoint rule; numeric).
ROUNDING_NODES = 24


def rounded_points(x: float, halfwidth: float) -> list[tuple[float, float]]:
    """(true difference, weight) pairs for a shown difference ``x``: the point itself, or
    the triangle of two rounding errors around it."""
    if halfwidth <= 0:
        return [(x, 1.0)]
    step = 2 * halfwidth / ROUNDING_NODES
    out = []
    for i in range(ROUNDING_NODES):
        t = x - halfwidth + (i + 0.5) * step
        out.append((abs(t), (1 - abs(t - x) / halfwidth) * step / halfwidth))
    return out


def half_normal_part(points: list[tuple[float, float]], sd: float) -> tuple[float, float]:
    """(likelihood, expected square of the true difference) under a half-normal of this sd."""
    mass = second = 0.0
    for t, w in points:
        f = w * math.exp(-0.5 * (t / sd) ** 2) / sd
        mass += f
        second += f * t * t
    if mass <= 0:
        t = points[len(points) // 2][0]
        return 0.0, t * t
    return mass, second / mass


#: Steps a rent may be rounded to, in 元: the site shows whole 元, and agencies round to
#: a round number (a fact of how asking rents are written, not of one market).
RENT_STEPS = (1, 5, 10, 20, 50, 100, 200, 500)
#: A step is the market's when at least this share of its rents are multiples of it (a
#: definition: a few unrounded rents do not hide a rounding most agencies use).
STEP_SHARE = 0.9


def rent_step(rents: list[float]) -> int:
    """The largest step (元) that most of these rents are multiples of."""
    whole = [round(r) for r in rents]
    return max(
        (s for s in RENT_STEPS if sum(r % s == 0 for r in whole) >= STEP_SHARE * len(whole)),
        default=1,
    )


def rounding_sd(rents: list[float]) -> float:
    """The sd, in log rent, that rounding adds to an ad's rent: the market's step
    (``rent_step``) spread uniformly (Sheppard's correction: step / sqrt(12)), relative to
    the median rent."""
    if not rents:
        return 0.0
    return rent_step(rents) / (statistics.median(rents) * math.sqrt(12))


def _reposts(units: list[UnitState], day: str) -> tuple[int, int]:
    """(reposts, ad-days) in the window: an advertiser's second id for the same unit is a
    repost; ad-days count the days each ad was seen."""
    reposts = ad_days = 0
    for unit in units:
        per_agent = Counter(advertiser(a) for a in unit.ads)
        reposts += sum(n - 1 for n in per_agent.values())
        ad_days += sum(sum(1 for d in a.rents if d <= day) for a in unit.ads)
    return reposts, ad_days


def _cuts(units: list[UnitState], day: str, cut_min: float) -> list[float]:
    """Every price cut seen in the window on an ad: 1 - new rent / the previous sighting's."""
    cuts: list[float] = []
    for unit in units:
        for a in unit.ads:
            rents = [a.rents[d] for d in sorted(a.rents) if d <= day and a.rents[d]]
            cuts.extend(
                1 - new / old
                for old, new in zip(rents, rents[1:], strict=False)
                if old and new and new < old * (1 - cut_min)
            )
    return cuts


def _cut_follows(units: list[UnitState], day: str, cut_min: float) -> list[int]:
    """For units whose ads of two or more advertisers were cut in the window: the days from
    the unit's first cut to each other advertiser's first cut. One advertiser's cut on its
    own ad is unambiguous; the others' show how far apart the agencies follow a landlord."""
    follows: list[int] = []
    for unit in units:
        first: dict[str, str] = {}
        for a in unit.ads:
            cut = next((d for d in sorted(a.rents) if d <= day and a.cut_on(d, cut_min)), None)
            if cut is not None:
                key = advertiser(a)
                first[key] = min(first.get(key, cut), cut)
        if len(first) >= 2:
            leader, *others = sorted(first.values())
            follows.extend(days_between(leader, d) for d in others)
    return follows


def _ended_spreads(units: list[UnitState], day: str) -> list[int]:
    """For units whose ads all came down before yesterday, with two or more advertisers:
    days between the first and the last advertiser's last sighting."""
    spreads = []
    for unit in units:
        last: dict[str, str] = {}
        for a in unit.ads:
            seen = a.last_seen_until(day)
            if seen:
                key = advertiser(a)
                last[key] = max(last.get(key, seen), seen)
        if len(last) < 2 or max(last.values()) >= days_before(day, 1):
            continue
        spreads.append(days_between(min(last.values()), max(last.values())))
    return spreads


def days_before(day: str, n: int) -> str:
    from pipeline.dates import shift_day

    return shift_day(day, -n)


@dataclass(slots=True)
class BuildingDay:
    """What the fit reads of one building on the day."""

    building_id: int
    city: str
    live: list[UnitState]
    units: list[UnitState]
    first_watched: str | None


def fit_city(
    city: str,
    buildings: list[BuildingDay],
    day: str,
    p: MarketParams = DEFAULT_PARAMS,
    known_jitter: tuple[float, int] | None = None,
) -> tuple[CityFit, dict[int, BuildingFit]]:
    """The city's market and each building's (shrunk toward the city's).
    ``known_jitter``: (jitter, pairs) fitted already, used instead of fitting it again."""
    fit = CityFit(city=city)
    per_building: dict[int, list[int]] = {}
    counts: list[int] = []
    squares = 0.0
    dof = 0
    lags: list[int] = []
    reposts = ad_days = 0
    spreads: list[int] = []
    cuts: list[float] = []
    follows: list[int] = []
    pair_list: list[tuple[float, int | None]] = []
    fresh_pairs: list[tuple[int, int, int]] = []  # (building, lag, days watched)
    ages: dict[int, list[int]] = defaultdict(list)
    rents: list[float] = []
    for b in buildings:
        ads_today = live_ads(b.live, day)
        building_pairs = pairs(ads_today, day, p, b.first_watched)
        pair_list.extend(building_pairs)
        if b.first_watched is not None:
            window = days_between(b.first_watched, day)
            fresh_pairs.extend(
                (b.building_id, lag, window) for _, lag in building_pairs if lag is not None
            )
            for a in ads_today:
                up = a.created or a.first_seen
                if up > b.first_watched:
                    ages[b.building_id].append(days_between(up, day))
        rents.extend(r for a in ads_today if (r := a.rents.get(day)))
    floor = rounding_sd(rents)
    # one flat's rents as shown: the agencies' jitter and the rounding, independent
    halfwidth = rent_step(rents) / statistics.median(rents) if rents else 0.0
    # a spread fitted before is kept as it is; the pairs' EM runs only when there is none
    if known_jitter is not None and known_jitter[1] >= MIN_PAIRS:
        jitter: float | None = known_jitter[0]
    elif len(pair_list) >= MIN_PAIRS:
        jitter = math.hypot(robust_jitter([d for d, _ in pair_list], halfwidth=halfwidth), floor)
    else:
        jitter = None
    width = None if jitter is None else JITTER_WIDTH_SD * jitter
    up_days = UpDays.per_building(ages)
    lag_fit = (
        lag_mixture([(lag, up_days[b].unrelated(lag, w)) for b, lag, w in fresh_pairs])
        if jitter is not None and fresh_pairs
        else None
    )
    # the lags are measured once the pairs the mixture gives to one flat are enough
    if lag_fit is not None and lag_fit.one_flat * len(fresh_pairs) < MIN_PAIRS:
        lag_fit = None
    by_building = {b.building_id: calibration_flats(b.live, day, p, width) for b in buildings}
    fresh = (
        {
            b.building_id: fresh_flats(
                by_building[b.building_id], b.first_watched, day, lag_fit.quantile(FRESH_QUANTILE)
            )
            for b in buildings
        }
        if lag_fit is not None and width is not None
        else {}
    )
    use_fresh = sum(len(f) for f in fresh.values()) >= MIN_CLASS
    candidates: list[tuple[list[AdState], dict[str, float]]] = []
    for b in buildings:
        flats = fresh[b.building_id] if use_fresh else by_building[b.building_id]
        ns = [len(f) for f in flats]
        per_building[b.building_id] = ns
        counts.extend(ns)
        shares = _shares(live_ads(b.live, day))
        candidates.extend((f, shares) for f in flats)
        for f in flats:
            logs = [math.log(r) for a in f if (r := a.rents.get(day))]
            if len(logs) >= 2:
                m = statistics.fmean(logs)
                squares += sum((x - m) ** 2 for x in logs)
                dof += len(logs) - 1
        lags.extend(_lags(b.units, b.first_watched, day, p.join_days))
        r, d = _reposts(b.units, day)
        reposts += r
        ad_days += d
        spreads.extend(_ended_spreads(b.units, day))
        cuts.extend(_cuts(b.units, day, p.cut_min))
        follows.extend(_cut_follows(b.units, day, p.cut_min))
    weights: list[float] = []
    if counts:
        weigh = width is not None and not use_fresh
        weights = one_flat_weights(candidates) if weigh else [1.0] * len(counts)
        total = sum(weights)
        fit.flats = len(counts)
        fit.calibration = "fresh" if use_fresh else "weighted" if weigh else "all"
        fit.mean_ads = sum(w * n for w, n in zip(weights, counts, strict=True)) / total
        fit.mean_ads_unweighted = statistics.fmean(counts)
        fit.var_ads = (
            sum(w * (n - fit.mean_ads) ** 2 for w, n in zip(weights, counts, strict=True)) / total
            if len(counts) > 1
            else fit.mean_ads
        )
        tally: dict[int, float] = defaultdict(float)
        for w, n in zip(weights, counts, strict=True):
            tally[n] += w / total
        fit.ads_dist = dict(sorted(tally.items()))
    fit.rounding_sd, fit.rounding_halfwidth = floor, halfwidth
    if jitter is not None:
        fit.jitter = jitter
        fit.jitter_n = len(pair_list) if known_jitter is None else known_jitter[1]
        fit.jitter_source = "pairs" if known_jitter is None else "given"
        if lag_fit is not None:
            fit.join_days = lag_fit.quantile(LAG_QUANTILE)
            fit.lags = lag_fit.shares(fit.join_days)
            fit.lags_n = len(fresh_pairs)
    elif dof >= MIN_PAIRS:
        fit.jitter = max(math.sqrt(squares / dof), floor)
        fit.jitter_n = dof
        fit.jitter_source = "flats"
    if lags and not fit.lags:
        # the units' own lags, where the pairs did not measure them
        lag_tally = Counter(lags)
        fit.lags = {k: lag_tally[k] / len(lags) for k in sorted(lag_tally)}
        fit.lags_n = len(lags)
    if cuts:
        cuts.sort()
        fit.cut_max = cuts[min(len(cuts) - 1, math.ceil(0.95 * len(cuts)) - 1)]
        fit.cuts = len(cuts)
    if follows:
        follows.sort()
        fit.cut_follow_days = follows[math.ceil(LAG_QUANTILE * len(follows)) - 1]
        fit.cut_follows = len(follows)
    fit.ad_days = ad_days
    # Laplace's rule of succession, as for the tail of ads per flat: a window without a
    # repost does not show a rate of zero, and at zero the grouping finds a flat's ad put
    # up after its lags impossible (a snapshot failed on log(0)).
    fit.repost_rate = (reposts + 1) / (ad_days + 2) if ad_days else 0.0
    fit.ended = len(spreads)
    fit.linger_share = sum(s > 1 for s in spreads) / len(spreads) if spreads else 0.0

    # each building's calibration flats as (advertisers, weight of being one flat)
    weighted: dict[int, list[tuple[int, float]]] = {}
    at = 0
    for b in buildings:
        ns = per_building[b.building_id]
        ws = weights[at : at + len(ns)] if counts else []
        weighted[b.building_id] = list(zip(ns, ws, strict=True))
        at += len(ns)
    fit.between_var = _between_variance(weighted, fit.mean_ads, fit.var_ads)
    fits = {}
    implied: list[float] = []
    for b in buildings:
        bf = _building_fit(b, weighted[b.building_id], fit, day)
        fits[b.building_id] = bf
        implied.extend(
            [
                sum(
                    min(bf.mean_ads * s, P_MAX) * (1 - min(bf.mean_ads * s, P_MAX))
                    for s in bf.shares.values()
                )
            ]
            * len(per_building[b.building_id])
        )
    if implied and statistics.fmean(implied) > 0:
        # the observed variance, with PRIOR_DOF flats' worth of the implied one (a few
        # calibration flats alone would make the likelihood as sharp as they happen to be)
        expected = statistics.fmean(implied)
        squares = fit.var_ads * fit.flats
        fit.dispersion = (squares + PRIOR_DOF * expected) / (fit.flats + PRIOR_DOF) / expected
    return fit, fits


def _shares(ads: list[AdState]) -> dict[str, float]:
    """Each advertiser's share of these ads."""
    tally = Counter(advertiser(a) for a in ads)
    total = sum(tally.values())
    return {a: n / total for a, n in tally.items()} if total else {}


def one_flat_weights(
    candidates: list[tuple[list[AdState], dict[str, float]]], rounds: int = 20
) -> list[float]:
    """Each candidate group's chance of being one flat, by EM: given the mean advertisers
    per flat, the capture–recapture likelihood of K = 1 against K = 2..ads (a flat prior),
    and the mean re-estimated over the groups weighted by that chance. A group of two
    look-alike flats close in rent would otherwise count as one flat with twice the ads."""
    counts = [len(f) for f, _ in candidates]
    weights = [1.0] * len(candidates)
    mean = statistics.fmean(counts)
    for _ in range(rounds):
        new_weights = []
        for flat, shares in candidates:
            probs = {a: min(mean * s, P_MAX) for a, s in shares.items()}
            low, logs = group_loglik(Counter(advertiser(a) for a in flat), probs, 1, len(flat))
            top = max(logs)
            ws = [math.exp(x - top) for x in logs]
            new_weights.append(ws[0] / sum(ws) if low == 1 else 0.0)
        total = sum(new_weights)
        if total <= 0:
            break
        new_mean = sum(w * n for w, n in zip(new_weights, counts, strict=True)) / total
        weights = new_weights
        if abs(new_mean - mean) < 1e-4:
            break
        mean = new_mean
    return weights


def _between_variance(
    per_building: dict[int, list[tuple[int, float]]], mean: float, within: float
) -> float:
    """Method-of-moments variance of the buildings' true means around the city's, each
    building weighted by its calibration flats' weight (a building of one or two flats
    says little about how far its mean is from the city's)."""
    terms = []
    for flats in per_building.values():
        weight = sum(w for _, w in flats)
        if weight > 0:
            own = sum(n * w for n, w in flats) / weight
            terms.append((weight, (own - mean) ** 2 - within / weight))
    if len(terms) < 2:
        return 0.0
    return max(0.0, sum(w * t for w, t in terms) / sum(w for w, _ in terms))


def _building_fit(
    b: BuildingDay, flats: list[tuple[int, float]], city: CityFit, day: str
) -> BuildingFit:
    within = max(city.var_ads, 1e-6)
    weight = sum(w for _, w in flats)
    if weight > 0 and city.between_var > 0:
        precision = weight / within + 1 / city.between_var
        mean = (
            sum(n * w for n, w in flats) / within + city.mean_ads / city.between_var
        ) / precision
        se = math.sqrt(1 / precision)
    else:
        # no calibration flat here, or buildings do not differ: the city's mean
        mean = city.mean_ads
        se = math.sqrt(within / city.flats + city.between_var) if city.flats else mean / 2
    shares = _shares(live_ads(b.live, day))
    return BuildingFit(b.building_id, len(flats), mean, se, shares)


def rent_floor(rents: list[float], jitter: float) -> int:
    """The fewest flats whose ads, each within JITTER_WIDTH_SD jitters of its flat's
    others in log rent, cover these rents (greedy interval cover: exact on a line)."""
    logs = sorted(math.log(r) for r in rents if r)
    width = JITTER_WIDTH_SD * jitter
    flats, start = 0, None
    for x in logs:
        if start is None or x - start > width:
            flats += 1
            start = x
    return flats


def group_loglik(
    counts: dict[str, int],
    probs: dict[str, float],
    floor: int,
    ads: int,
    temper: float = 1.0,
) -> tuple[int, list[float]]:
    """Log-likelihood of the number of flats ``K`` of one look-alike group, for ``K`` from
    its fewest possible flats to ``ads``: prod_a Binomial(n_a; K, p_a) over every
    advertiser of the building (one with no ad here says there are few flats), tempered."""
    low = max(floor, max(counts.values(), default=0), 1 if ads else 0)
    if ads <= low:
        return low, [0.0]
    logs = []
    for k in range(low, ads + 1):
        ll = 0.0
        for a, p in probs.items():
            n = counts.get(a, 0)
            ll += (
                math.lgamma(k + 1)
                - math.lgamma(n + 1)
                - math.lgamma(k - n + 1)
                + n * math.log(p)
                + (k - n) * math.log1p(-p)
            )
        logs.append(ll / temper)
    return low, logs


@dataclass(slots=True)
class Group:
    """One look-alike group of a building's live ads: the log-likelihood of its number of
    flats from ``low`` on, and how many units the de-duplication made of it."""

    low: int
    logs: list[float]
    matched: int
    ads: int = 1
    ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Prior:
    """The prior of a group's number of flats: a normal of ``mean`` and ``sd`` (fitted
    per number of matched units), or, when ``sd`` is None, a geometric of mean ``mean``
    from 1 (the building's crowding)."""

    mean: float
    sd: float | None = None

    def log(self, k: int) -> float:
        if self.sd is None:
            q = 1 - 1 / max(self.mean, 1 + 1e-6)
            return (k - 1) * math.log(q)
        return -0.5 * ((k - self.mean) / self.sd) ** 2


def posterior(group: Group, prior: Prior) -> tuple[int, list[float]]:
    """The group's posterior of ``K``."""
    post = [x + prior.log(group.low + i) for i, x in enumerate(group.logs)]
    top = max(post)
    weights = [math.exp(x - top) for x in post]
    total = sum(weights)
    return group.low, [w / total for w in weights]


def _mean(post: tuple[int, list[float]]) -> float:
    return sum((post[0] + i) * w for i, w in enumerate(post[1]))


def _var(post: tuple[int, list[float]]) -> float:
    m = _mean(post)
    return sum((post[0] + i - m) ** 2 * w for i, w in enumerate(post[1]))


def fit_crowding(groups: list[Group], prior: float | None = None, rounds: int = 20) -> float:
    """The mean flats per look-alike group by EM (the geometric prior's mean, re-estimated
    as the mean of the groups' posterior means until it settles); ``prior``, the city's,
    counts as one group more (the building's estimate is shrunk toward it)."""
    if not groups:
        return prior or 1.0
    crowding = prior or statistics.fmean(g.low + len(g.logs) - 1 for g in groups)
    for _ in range(rounds):
        means = [_mean(posterior(g, Prior(crowding))) for g in groups]
        if prior is not None:
            means.append(prior)
        new = max(1.0, statistics.fmean(means))
        if abs(new - crowding) < 1e-4:
            break
        crowding = new
    return crowding


@dataclass(frozen=True, slots=True)
class MatchedError:
    """How far the de-duplication's units of a group stand from its flats, for groups of
    one number of units: the mean of (units - flats), and its variance per ad of the
    group, estimated by moments
    against the count model's posterior (Fay & Herriot 1979: the variance of the
    differences less the posteriors' own)."""

    bias: float
    var: float
    groups: int


def fit_matched_errors(groups: list[Group], crowding: float) -> dict[int, MatchedError]:
    """Per number of units made of a group, seen in at least MIN_CLASS groups of the city.
    The error's spread grows with the group: its variance is per ad of the group
    (a tower's look-alike group of 40 ads is merged more than a building's pair)."""
    by_matched: dict[int, list[tuple[float, float, int]]] = defaultdict(list)
    for g in groups:
        post = posterior(g, Prior(crowding))
        by_matched[g.matched].append((_mean(post), _var(post), g.ads))
    out = {}
    for matched, rows in sorted(by_matched.items()):
        if len(rows) < MIN_CLASS:
            continue
        ads = sum(n for _, _, n in rows)
        bias = statistics.fmean(matched - m for m, _, _ in rows)
        var = sum((matched - m - bias) ** 2 - v for m, v, _ in rows) / ads
        out[matched] = MatchedError(bias, max(var, VAR_FLOOR), len(rows))
    return out


def combine(
    group: Group, crowding: float, errors: dict[int, MatchedError]
) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """A group's flats as (mean, variance): the count model's posterior weighed with the
    de-duplication's units (less their bias) by the inverse of each one's variance; then
    the two it weighed: the count model's, and the units' (the count model's where the
    units' error is not known)."""
    post = posterior(group, Prior(crowding))
    mean, var = _mean(post), _var(post)
    err = errors.get(group.matched)
    if err is None or var <= 0:
        return (mean, var), (mean, var), (mean, var)
    err_var = err.var * group.ads
    precision = 1 / var + 1 / err_var
    matched = group.matched - err.bias
    value = (mean / var + matched / err_var) / precision
    low, high = group.low, group.low + len(group.logs) - 1
    return (min(max(value, low), high), 1 / precision), (mean, var), (matched, err_var)


def group_logliks(
    ads: list[AdState],
    bf: BuildingFit,
    city: CityFit,
    day: str,
    p: MarketParams = DEFAULT_PARAMS,
    mean_ads: float | None = None,
    unit_of: dict[int, int] | None = None,
) -> list[Group]:
    """Each look-alike group's log-likelihood over its number of flats, and its number of
    units (``unit_of``: ad id -> unit)."""
    mean = bf.mean_ads if mean_ads is None else mean_ads
    probs = {a: min(mean * s, P_MAX) for a, s in bf.shares.items()}
    unit_of = unit_of or {}
    out = []
    for cluster in attribute_clusters(ads, p):
        counts = Counter(advertiser(a) for a in cluster)
        floor = rent_floor([r for a in cluster if (r := a.rents.get(day))], city.jitter)
        low, logs = group_loglik(counts, probs, floor, len(cluster), city.dispersion)
        matched = len({unit_of.get(a.id, -a.id) for a in cluster})
        out.append(Group(low, logs, matched, len(cluster), [a.id for a in cluster]))
    return out


def _convolve(a: tuple[int, list[float]], b: tuple[int, list[float]]) -> tuple[int, list[float]]:
    out = [0.0] * (len(a[1]) + len(b[1]) - 1)
    for i, x in enumerate(a[1]):
        if x < NEGLIGIBLE:
            continue
        for j, y in enumerate(b[1]):
            out[i + j] += x * y
    start = a[0] + b[0]
    # trim negligible tails so that a tower's convolution stays short
    lo = 0
    while lo < len(out) - 1 and out[lo] < NEGLIGIBLE:
        lo += 1
    hi = len(out)
    while hi > lo + 1 and out[hi - 1] < NEGLIGIBLE:
        hi -= 1
    return start + lo, out[lo:hi]


def _quantile(post: tuple[int, list[float]], q: float) -> int:
    acc = 0.0
    for i, w in enumerate(post[1]):
        acc += w
        if acc >= q - 1e-12:
            return post[0] + i
    return post[0] + len(post[1]) - 1


def estimate_building(
    ads: list[AdState],
    bf: BuildingFit,
    city: CityFit,
    day: str,
    p: MarketParams = DEFAULT_PARAMS,
    city_crowding: float | None = None,
    errors: dict[int, MatchedError] | None = None,
    unit_of: dict[int, int] | None = None,
) -> Estimate:
    """A building's flats on offer from its live ads of the day: the sum over its groups,
    with its variance; mixed over the uncertainty of the mean advertisers per flat
    (three-point Gauss–Hermite; law of total variance). The interval is the normal one."""
    errors = errors or {}
    groups = group_logliks(ads, bf, city, day, p, unit_of=unit_of)
    crowding = fit_crowding(groups, city_crowding)
    nodes = [(-math.sqrt(3.0), 1 / 6), (0.0, 2 / 3), (math.sqrt(3.0), 1 / 6)]
    totals: list[tuple[float, float, float]] = []
    for z, weight in nodes:
        mean_ads = max(1.0, bf.mean_ads + z * bf.mean_se)
        node = groups if z == 0.0 else group_logliks(ads, bf, city, day, p, mean_ads, unit_of)
        parts = [combine(g, crowding, errors) for g in node]
        # model averaging (Buckland, Burnham & Augustin 1997): the spread between the
        # combined total and the two it weighs counts in its variance, with their weights
        both, count, matched = (
            (sum(x[i][0] for x in parts), sum(x[i][1] for x in parts)) for i in range(3)
        )
        spread = 0.0
        if count[1] > 0 and matched[1] > 0:
            w = (1 / count[1]) / (1 / count[1] + 1 / matched[1])
            spread = w * (count[0] - both[0]) ** 2 + (1 - w) * (matched[0] - both[0]) ** 2
        totals.append((weight, both[0], both[1] + spread))
    mean = sum(w * t for w, t, _ in totals)
    var = sum(w * (v + (t - mean) ** 2) for w, t, v in totals)
    sd = math.sqrt(var)
    fewest = sum(g.low for g in groups)
    most = sum(g.low + len(g.logs) - 1 for g in groups)
    return Estimate(
        units=mean,
        low=max(fewest, math.floor(mean - Z_INTERVAL * sd)),
        high=min(most, math.ceil(mean + Z_INTERVAL * sd)),
        groups=len(groups),
        crowding=crowding,
        sd=sd,
    )
