"""The stated 90 % interval of a building's count of empty flats (``units_low``, ``units_high``).

Pure. Three readings of the same ads disagree in ways no single posterior shows:

- the de-duplication's count (``units``: the units the grouping keeps live);
- that count had every flat as many advertisers as the calibration flats show unweighted:
  ``units`` x (the weighted mean advertisers per flat / the unweighted mean). The weighing
  (``one_flat_weights``) and the plain mean of the same calibration groups are two
  defensible readings of one sample; which is nearer the truth depends on the market
  (docs/units-history.md, the fifth round), and a grouping that believed the other would
  have merged or split its look-alike flats in that proportion;
- the count model's posterior mean (``units_model``: capture–recapture over the
  look-alike groups).

The interval is the 5 % and 95 % quantiles of their equal-weight mixture (model averaging,
Buckland, Burnham & Augustin 1997), each reading log-normal with the count model's own
posterior spread for the building: what the ads leave open about how many flats a group
of look-alike ads is, around each reading of how the market advertises. Equal weights
because nothing in one day's ads says which reading is right; no number here is fitted to
a simulated market.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.units.estimate import INTERVAL_TAIL

#: A reading of no flat at all is taken as half a flat: the log-normal needs a positive
#: centre, and half a flat rounds to none at the low end.
LEAST_CENTRE = 0.5
#: Bisection steps on the log scale: 2^-24 of a bracket a few units of log wide, far
#: below one flat.
STEPS = 24


@dataclass(frozen=True, slots=True)
class Readings:
    """What the interval is made of, for one building on one day."""

    units: float
    #: weighted / unweighted mean advertisers per flat of the city's calibration flats
    calibration_ratio: float
    model: float
    #: the count model's posterior standard deviation (flats)
    model_sd: float

    def centres(self) -> list[float]:
        return [
            max(self.units, LEAST_CENTRE),
            max(self.units * self.calibration_ratio, LEAST_CENTRE),
            max(self.model, LEAST_CENTRE),
        ]

    def log_sd(self) -> float:
        """The count model's spread on the log scale (delta method)."""
        return self.model_sd / max(self.model, 1.0)


def units_interval(readings: Readings) -> tuple[int, int]:
    """``(low, high)``: the 90 % interval of the three readings' mixture, in whole flats.

    It always holds ``units``: each reading carries a third of the mixture and half of its
    own mass lies on each side of it, so more than 5 % lies on each side of any reading.
    """
    centres = [math.log(c) for c in readings.centres()]
    sd = readings.log_sd()
    if sd <= 0:
        low, high = math.exp(min(centres)), math.exp(max(centres))
    else:
        low = math.exp(_mixture_quantile(centres, sd, INTERVAL_TAIL))
        high = math.exp(_mixture_quantile(centres, sd, 1 - INTERVAL_TAIL))
    return math.floor(min(low, readings.units)), math.ceil(max(high, readings.units))


def _mixture_quantile(centres: list[float], sd: float, q: float) -> float:
    """The ``q`` quantile of an equal-weight mixture of normals (log scale), by bisection
    from 6 sd below the lowest centre to 6 sd above the highest (1e-9 tails)."""
    lo, hi = min(centres) - 6 * sd, max(centres) + 6 * sd
    scale = 1 / (math.sqrt(2) * sd)
    target = 2 * q * len(centres)  # the sum over the centres of erfc at the quantile
    erfc = math.erfc
    for _ in range(STEPS):
        mid = (lo + hi) / 2
        if sum(erfc((c - mid) * scale) for c in centres) > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2
