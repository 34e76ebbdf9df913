"""The de-duplication's parameters fitted from the day's own ads, per city, before the
day's new ads are grouped into flats.

Pure. The grouping model (pipeline.units.grouping) weighs a split of look-alike ads into
flats by how many advertisers show a flat, how far one flat's ads lie apart in rent, how
many days apart they go up and how often an agency reposts; the de-duplication's rent
tolerances are widths of that same spread. Those are facts of a market, not of rentwatch:
they are estimated each day from the city's ads (pipeline.units.estimate.fit_city, run
here on the day's ads before any of them is grouped, so that the first day of a city is
fitted too), and ``MarketParams``' own values remain only as the prior of a quantity the
day's data do not yet measure (a new city's first day has no reposts to count).

What is fitted, and from what (docs/units-method.md, "Fitted parameters"):

- the agencies' rent spread around a flat (``rent_sigma``), from pairs of look-alike ads
  of two advertisers, a two-part mixture fitted by EM, floored by the rounding of rents;
  the tolerances ``rent_tol`` and ``rent_span`` are that spread times fixed widths;
- ads per flat (``ads_per_flat``, ``mean_ads_per_flat``), from the look-alike groups that
  are most likely one flat (capture–recapture weights); the share beyond the largest seen
  is Laplace's rule of succession, 1 / (groups + 2);
- listing lags (``listing_lag``, ``join_days``), from the days apart of fresh pairs;
- the repost rate, from the window's units (a second id of one advertiser for one unit);
- landlords' cuts (``repost_cut_max``), from the price drops seen on one ad (one id, so
  one flat: unambiguous), and how many days apart the agencies follow a cut
  (``cut_follow_days``), from the units whose ads of several advertisers were cut;
- the spread of look-alike flats' rents (``flat_spread``), from the wide part of the
  mixture of two keys' pairs (pipeline.units.advertisers.shared_keys): two flats' ads.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from pipeline.units.advertisers import SharedKeys
from pipeline.units.estimate import (
    JITTER_WIDTH_SD,
    MIN_CLASS,
    MIN_PAIRS,
    RENT_TOL_SD,
    BuildingDay,
    CityFit,
    fit_city,
)
from pipeline.units.params import MarketParams

#: Ad-days of a city's units before its repost rate is measured rather than assumed (a
#: definition of enough data: a rate of 1 % a day shows about ten reposts).
MIN_AD_DAYS = 1000

#: Price drops seen on ads (or advertisers following a cut) before the cuts are measured
#: rather than assumed (a definition of enough data, as MIN_PAIRS for a median).
MIN_CUTS = 30

#: The fitted fields, each with the figure of the fit that counts its data.
FITTED = (
    "rent_sigma",
    "rent_tol",
    "rent_span",
    "ads_per_flat",
    "mean_ads_per_flat",
    "tail_share",
    "listing_lag",
    "join_days",
    "repost_rate",
    "flat_spread",
    "repost_cut_max",
    "cut_follow_days",
)


def params_from_fit(fit: CityFit, prior: MarketParams) -> tuple[MarketParams, dict[str, int]]:
    """``prior`` with every field the fit has data for replaced by the fitted value; and
    for each fitted field the number of observations behind it (0: the prior's value)."""
    changes: dict[str, Any] = {}
    n = dict.fromkeys(FITTED, 0)
    if fit.jitter_n >= MIN_PAIRS:
        sigma = fit.jitter
        changes.update(
            rent_sigma=sigma, rent_tol=RENT_TOL_SD * sigma, rent_span=JITTER_WIDTH_SD * sigma
        )
        n.update(rent_sigma=fit.jitter_n, rent_tol=fit.jitter_n, rent_span=fit.jitter_n)
    if fit.flats >= MIN_CLASS and fit.ads_dist:
        shares = tuple((k, v) for k, v in sorted(fit.ads_dist.items()) if v > 0)
        changes.update(
            ads_per_flat=shares,
            mean_ads_per_flat=fit.mean_ads,
            tail_share=1 / (fit.flats + 2),
        )
        n.update(ads_per_flat=fit.flats, mean_ads_per_flat=fit.flats, tail_share=fit.flats)
    if fit.join_days is not None and fit.lags:
        changes.update(join_days=fit.join_days, listing_lag=tuple(sorted(fit.lags.items())))
        n.update(join_days=fit.lags_n, listing_lag=fit.lags_n)
    if fit.ad_days >= MIN_AD_DAYS:
        changes["repost_rate"] = fit.repost_rate
        n["repost_rate"] = fit.ad_days
    if fit.cuts >= MIN_CUTS:
        changes["repost_cut_max"] = fit.cut_max
        n["repost_cut_max"] = fit.cuts
    if fit.cut_follow_days is not None and fit.cut_follows >= MIN_CUTS:
        changes["cut_follow_days"] = fit.cut_follow_days
        n["cut_follow_days"] = fit.cut_follows
    return replace(prior, **changes), n


def fit_grouping_params(
    city: str,
    buildings: list[BuildingDay],
    day: str,
    prior: MarketParams,
    known_jitter: tuple[float, int] | None = None,
) -> tuple[MarketParams, dict[str, int], CityFit]:
    """The city's de-duplication parameters for ``day``, from its buildings' ads of the day
    (each building's ``live`` holding its ads, grouped or not) and its units of the window;
    ``known_jitter``: (rent spread, pairs) fitted before, kept. The fit too."""
    fit, _ = fit_city(city, buildings, day, prior, known_jitter)
    return (*params_from_fit(fit, prior), fit)


def jitter_without_rounding(rent_sigma: float, rounding_sd: float) -> float:
    """The agencies' own spread around a flat's rent: the fitted spread of one flat's rents
    as shown (``rent_sigma``) less the rounding of the shown rents, independent of it."""
    return math.sqrt(max(rent_sigma**2 - rounding_sd**2, 0.0))


def with_flat_spread(
    params: MarketParams, n: dict[str, int], judged: SharedKeys, rounding_sd: float
) -> tuple[MarketParams, dict[str, int]]:
    """``params`` with the spread of the city's look-alike flats' log rents, from the wide
    part of the pairs of two keys (two flats' ads, whose true difference has the variance
    2 (spread² + jitter²)), where enough pairs were fitted. Flats nearer than one ad's
    jitter cannot be told apart, so the spread is at least the jitter."""
    if judged.cross_pairs < MIN_PAIRS or judged.wide <= 0:
        return params, n
    jitter = jitter_without_rounding(params.rent_sigma, rounding_sd)
    spread = math.sqrt(max(judged.wide**2 / 2 - jitter**2, 0.0))
    return (
        replace(params, flat_spread=max(spread, params.rent_sigma)),
        {**n, "flat_spread": judged.cross_pairs},
    )


def params_rows(
    city: str, day: str, params: MarketParams, n: dict[str, int], fit: CityFit | None = None
) -> list[dict[str, Any]]:
    """The fitted fields as ``market_params`` rows, named ``grouping.<field>``; a field the
    day's data did not measure is stored with its prior value and n = 0. With the ``fit``:
    ``grouping.fresh_calibration``, 1 when ads per flat came from flats that came on offer
    whole while watched, 0 when from every group weighted by its chance of being a flat."""
    rows = []
    if fit is not None and fit.flats:
        rows.append(
            _row(city, day, "grouping.fresh_calibration", fit.calibration == "fresh", fit.flats)
        )
    for name in FITTED:
        value = getattr(params, name)
        if isinstance(value, tuple):
            for key, share in value:
                rows.append(_row(city, day, f"grouping.{name}.{key}", share, n[name]))
        else:
            rows.append(_row(city, day, f"grouping.{name}", value, n[name]))
    return rows


def shared_rows(city: str, day: str, judged: SharedKeys) -> list[dict[str, Any]]:
    """The advertiser keys judged labels many advertisers share, as ``market_params`` rows;
    with the listing lags the pairs of two keys gave (their decay, and the days holding 90 %
    of one flat's lags), where fitted."""
    pairs = sum(judged.own.values())
    rows = [
        _row(city, day, "advertisers.keys_with_own_pairs", len(judged.own), pairs),
        _row(city, day, "advertisers.shared_keys", len(judged.shared), pairs),
        _row(city, day, "advertisers.one_flat_pair_sd", judged.narrow, pairs),
        _row(city, day, "advertisers.two_flats_pair_sd", judged.wide, pairs),
        _row(city, day, "advertisers.one_flat_pair_share", judged.share, pairs),
    ]
    if judged.lags is not None:
        fresh = judged.fresh_cross_pairs
        rows.append(_row(city, day, "advertisers.listing_lag_decay", judged.lags.decay, fresh))
        rows.append(
            _row(city, day, "advertisers.listing_lag_days", judged.lags.quantile(0.9), fresh)
        )
    return rows


def _row(city: str, day: str, parameter: str, value: float, n: int) -> dict[str, Any]:
    return {
        "city": city,
        "building_id": None,
        "date": day,
        "parameter": parameter,
        "value": round(float(value), 6),
        "n": n,
    }
