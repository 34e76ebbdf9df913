"""The day's count of flats per building: the market fitted from the day's ads
(pipeline.units.estimate), each building's posterior, and a person's count calibrating it.

Pure. The contract column ``units`` stays the de-duplication's; each covered building's
``units_low`` and ``units_high`` are set here, its stated 90 % interval
(pipeline.units.interval: the de-duplication's count, that count under the calibration's
unweighted mean, and the count model's, mixed). Experimental (docs/units-method.md, "An
experimental second estimate"), each covered building's row also gets
- ``units_model``, ``units_model_low``, ``units_model_high``: the count model's posterior
  mean and 90 % interval from the ads alone;
- ``units_model_calibrated``: ``units_model`` calibrated by the latest notice-board count
  of the building (``manual_observations``), and ``calibration``, the factor applied
  (both null: no count).

A count calibrates as a factor on the building's capture probabilities carried forward:
on the day of the count, ``count / units_model`` says how many flats each ad stands for
beyond what the model believed; later days multiply the model's posterior by that
factor. Its uncertainty (the model's interval on the day of the count, the count taken
as exact) would widen the interval (``calibrate``: log-normal, the two spreads added in
quadrature); only the calibrated figure is stored.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from pipeline.snapshot.load import SnapshotInput
from pipeline.units.estimate import (
    BuildingDay,
    CityFit,
    estimate_building,
    fit_city,
    fit_crowding,
    fit_matched_errors,
    group_logliks,
    live_ads,
)
from pipeline.units.interval import Readings, units_interval
from pipeline.units.params import MarketParams

#: z of the interval's 5 % / 95 % quantiles (its level, pipeline.units.estimate).
Z90 = 1.6449


def _log_sd(low: float, high: float) -> float:
    """The log-normal sd a 90 % interval implies."""
    return (math.log(max(high, 0.5)) - math.log(max(low, 0.5))) / (2 * Z90)


def calibrate(
    units: float, low: float, high: float, count: int, model_then: tuple[float, float, float]
) -> tuple[float, int, int, float]:
    """The model's estimate (``units`` in [low, high]) scaled by a person's ``count`` made
    on a day the model said ``model_then`` = (units, low, high): (units, low, high, factor)."""
    then, then_low, then_high = model_then
    factor = count / max(then, 0.5)
    value = units * factor
    sd = math.hypot(_log_sd(low, high), _log_sd(then_low, then_high))
    return (
        value,
        math.floor(value * math.exp(-Z90 * sd)),
        math.ceil(value * math.exp(Z90 * sd)),
        factor,
    )


def market_rows(fit: CityFit, day: str) -> list[dict[str, Any]]:
    """The city's fitted parameters as rows of ``market_params`` (those with data)."""
    rows = [
        ("calibration_flats", fit.flats, fit.flats),
        ("ads_per_flat_mean", fit.mean_ads, fit.flats),
        ("ads_per_flat_mean_unweighted", fit.mean_ads_unweighted, fit.flats),
        ("ads_per_flat_var", fit.var_ads, fit.flats),
        ("ads_per_flat_between_buildings_var", fit.between_var, fit.flats),
        ("rent_jitter_sd", fit.jitter, fit.jitter_n),
        ("listing_lag_mean_days", _mean(fit.lags), fit.lags_n),
        ("repost_rate", fit.repost_rate, fit.ad_days),
        ("linger_share", fit.linger_share, fit.ended),
        ("price_cut_max", fit.cut_max, fit.cuts),
        ("cut_follow_days", fit.cut_follow_days or 0, fit.cut_follows),
        ("dispersion", fit.dispersion, fit.flats),
    ]
    if fit.join_days is not None:
        rows += [
            ("join_days", fit.join_days, fit.jitter_n),
            ("join_days_n", fit.jitter_n, fit.jitter_n),
        ]
    rows += [(f"ads_per_flat_share_{k}", v, fit.flats) for k, v in fit.ads_dist.items()]
    rows += [(f"listing_lag_share_{k}", v, fit.lags_n) for k, v in fit.lags.items()]
    return [
        {
            "city": fit.city,
            "building_id": None,
            "date": day,
            "parameter": name,
            "value": round(value, 6),
            "n": n,
        }
        for name, value, n in rows
        if n
    ]


def _row(
    city: str, building_id: int | None, day: str, parameter: str, value: float, n: int
) -> dict[str, Any]:
    return {
        "city": city,
        "building_id": building_id,
        "date": day,
        "parameter": parameter,
        "value": round(value, 6),
        "n": n,
    }


def _mean(shares: dict[int, float]) -> float:
    return sum(k * v for k, v in shares.items())


def estimate_counts(
    inp: SnapshotInput,
    fitted: dict[str, list[BuildingDay]],
    building_rows: list[dict[str, Any]],
    params: MarketParams,
) -> list[dict[str, Any]]:
    """Fit each city, estimate each covered building, patch its row; the day's
    ``market_params`` rows."""
    rows_by_building = {r["building_id"]: r for r in building_rows}
    out: list[dict[str, Any]] = []
    for city, buildings in sorted(fitted.items()):
        fit, fits = fit_city(city, buildings, inp.day, params)
        ratio = fit.mean_ads / fit.mean_ads_unweighted  # both the prior without flats
        out.extend(market_rows(fit, inp.day))
        per_building: dict[int, list[tuple[str, float, int]]] = defaultdict(list)
        unit_of = {a.id: id(u) for b in buildings for u in b.live for a in u.ads}
        everything = [
            g
            for b in buildings
            for g in group_logliks(
                live_ads(b.live, inp.day), fits[b.building_id], fit, inp.day, params, None, unit_of
            )
        ]
        crowding = fit_crowding(everything)
        errors = fit_matched_errors(everything, crowding)
        out.append(
            _row(city, None, inp.day, "flats_per_lookalike_group", crowding, len(everything))
        )
        for matched, err in errors.items():
            out.append(
                _row(city, None, inp.day, f"matched_{matched}_units_bias", err.bias, err.groups)
            )
            out.append(
                _row(city, None, inp.day, f"matched_{matched}_units_var", err.var, err.groups)
            )
        for b in buildings:
            row = rows_by_building[b.building_id]
            bf = fits[b.building_id]
            est = estimate_building(
                live_ads(b.live, inp.day), bf, fit, inp.day, params, crowding, errors, unit_of
            )
            row["units_model"] = round(est.units)
            row["units_model_low"] = est.low
            row["units_model_high"] = est.high
            row["units_low"], row["units_high"] = units_interval(
                Readings(row["units"], ratio, est.units, est.sd)
            )
            row["units_model_calibrated"], row["calibration"] = None, None
            count = inp.counts.get(b.building_id)
            if count is not None:
                vacant, then = count
                if then is None:  # counted today
                    then = (est.units, est.low, est.high)
                calibrated, _, _, factor = calibrate(est.units, est.low, est.high, vacant, then)
                row["units_model_calibrated"] = round(calibrated)
                row["calibration"] = round(factor, 4)
            per_building[b.building_id] = [
                ("ads_per_flat_mean", bf.mean_ads, bf.flats),
                ("ads_per_flat_mean_se", bf.mean_se, bf.flats),
                ("lookalike_groups", est.groups, est.groups),
                (
                    "flats_per_lookalike_group",
                    est.units / est.groups if est.groups else 0.0,
                    est.groups,
                ),
            ]
        for building_id, values in sorted(per_building.items()):
            out.extend(_row(city, building_id, inp.day, *v) for v in values)
    return out
