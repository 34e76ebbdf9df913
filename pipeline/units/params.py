"""Every tuned number of the units stage, in one place, each with where it comes from.

``MarketParams`` is passed into the functions of normalize, dedup, grouping and lifecycle
(and through the snapshot), never read as a module global deep inside them, so that a
caller can give other values: a test, a benchmark, and later values fitted from the data
per city or building (issue 18).

Each field says where its value comes from (``PROVENANCE``):

- ``site``: a fact of the sites or of how we crawl them;
- ``physical``: a fact of flats and rents, true of any market;
- ``budget``: a search or work budget, trading time for exactness;
- ``definition``: what a word of the output means (a cut, gone);
- ``sim``: copied from (or fitted on) the project's own simulator, rentwatch/sim: to be
  estimated from the data, issue 18. Its measured cost on other markets: issue 18 and
  docs/units-history.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

Provenance = Literal["site", "physical", "budget", "definition", "sim"]

#: What a ``sim`` value waits for.
SIM_NOTE = "copied from the project's simulator: to be estimated from the data, issue 18"
#: A ``sim`` value the snapshot fits from each day's ads (pipeline.units.fitted.FITTED):
#: it stands only as the prior of a day whose data do not measure it.
PRIOR_NOTE = (
    "copied from the project's simulator as the prior of a day with too little data; "
    "fitted per city from each day's ads (pipeline/units/fitted.py), issue 18"
)


def _param(default: Any, provenance: Provenance, why: str) -> Any:
    return field(default=default, metadata={"provenance": provenance, "why": why})


@dataclass(frozen=True, slots=True)
class MarketParams:
    """The units stage's parameters. ``MarketParams()`` gives the values used until now."""

    # -- normalize: the flags of an ad ---------------------------------------------------
    area_min: float = _param(5.0, "physical", "no flat or room is smaller (㎡)")
    area_max: float = _param(500.0, "physical", "no rented flat is larger (㎡)")
    city_rent_floor: float = _param(
        300.0, "physical", "no monthly rent in a Chinese city is lower (元)"
    )
    city_rent_ceiling: float = _param(200_000.0, "physical", "nor higher (元)")
    spread: float = _param(
        2.0,
        "sim",
        "an ad more than this factor off the building's median rent per ㎡ is bait or an "
        "error: honest ads differ by about ±30 %, the simulator's bait asks 25–38 % of the "
        f"price; {SIM_NOTE}",
    )
    min_peers: int = _param(3, "definition", "a building's median per ㎡ needs this many ads")

    # -- dedup: which ads may be one flat --------------------------------------------------
    area_tol: float = _param(
        2.0,
        "sim",
        "㎡ between two ads of one flat (each agency rounds the area its own way; the "
        f"simulator's ±0.6 ㎡); {SIM_NOTE}",
    )
    area_rel: float = _param(0.01, "sim", f"plus this share of the area; {SIM_NOTE}")
    rent_tol: float = _param(
        0.06,
        "sim",
        "an ad's rent within this share of its unit's median (the simulator's agencies "
        f"ask ±3 % around the landlord); {PRIOR_NOTE}",
    )
    rent_span: float = _param(
        0.065,
        "sim",
        f"all ads of one flat within this share of one another (max / min - 1); {PRIOR_NOTE}",
    )
    join_days: int = _param(
        2,
        "sim",
        f"a flat's ads go up within this many days of its first (the simulator's lags); {PRIOR_NOTE}",
    )
    repost_days: int = _param(
        5, "sim", f"a repost comes back within this many days of its old ad; {SIM_NOTE}"
    )
    repost_rent_tol: float = _param(
        0.01,
        "site",
        "a repost copies its old ad's rent, give or take rounding to 10 元",
    )
    repost_cut_max: float = _param(
        0.10,
        "sim",
        "a repost at a lower price is the same flat after a landlord's cut of at most this "
        f"share (the 95th percentile of the cuts seen on ads); {PRIOR_NOTE}",
    )
    cut_min: float = _param(0.005, "definition", "a rent falling by more than this share is a cut")
    cut_follow_days: int = _param(
        2,
        "sim",
        "cuts of a flat's ads this many days apart are one cut (the days within which 90 % "
        f"of its other advertisers follow the first's cut); {PRIOR_NOTE}",
    )
    alive_days: int = _param(
        3, "sim", f"a unit takes new ads only while an ad was seen this recently; {SIM_NOTE}"
    )
    unseen_group_max: int = _param(
        2,
        "sim",
        "a new unit of at most this many ads may be unseen reposts of a flat on offer "
        f"(docs/units-history.md); {SIM_NOTE}",
    )
    unseen_repost_days: int = _param(
        1,
        "sim",
        "reposts come back within a day of their old ad vanishing (the simulator's 0–1 day); "
        f"{SIM_NOTE}",
    )
    joint_max: int = _param(
        8, "budget", "at most this many new look-alike ads of a day are weighed together"
    )

    # -- grouping: the likelihood of a set of ads being one flat -------------------------
    #: (ads, share) pairs, kept a tuple so that the parameters stay immutable.
    ads_per_flat: tuple[tuple[int, float], ...] = _param(
        ((1, 0.2), (2, 0.3), (3, 0.3), (4, 0.2)),
        "sim",
        "share of flats with 1, 2, 3, 4 ads at once (the simulator's 1–4 agencies at "
        f"20/30/30/20 %); {PRIOR_NOTE}",
    )
    tail_share: float = _param(
        0.02,
        "sim",
        f"share of flats with one ad more than ads_per_flat lists, halving per ad; {PRIOR_NOTE}",
    )
    mean_ads_per_flat: float = _param(2.5, "sim", f"the mean of ads_per_flat; {PRIOR_NOTE}")
    rent_sigma: float = _param(
        0.0175,
        "sim",
        "standard deviation of an ad's log rent around its flat's (the simulator's ±3 % "
        f"uniform); {PRIOR_NOTE}",
    )
    #: (days after the flat's first ad, share) pairs.
    listing_lag: tuple[tuple[int, float], ...] = _param(
        ((0, 0.5), (1, 0.3), (2, 0.2)),
        "sim",
        f"share of a flat's first ads put up 0, 1, 2 days after its first; {PRIOR_NOTE}",
    )
    repost_rate: float = _param(
        0.02, "sim", f"chance a day that an agency reposts its ad under a new id; {PRIOR_NOTE}"
    )
    rent_margin: float = _param(
        0.1,
        "sim",
        "log-rent width added to a first day's look-alike set's range when estimating its "
        f"density; {SIM_NOTE}",
    )
    density_scale: float = _param(
        0.5,
        "sim",
        "a first day's density of look-alike flats, scaled to make the expected number of "
        f"flats match the simulator's first days (docs/units-history.md); {SIM_NOTE}",
    )
    flat_spread: float = _param(
        0.07,
        "sim",
        "sd of the log rents of one building's look-alike flats (one plan's flats ask a few % "
        "apart): how the flats that come on offer in a few days spread on the rent axis, "
        f"the density a later day's new flat costs in the grouping; {PRIOR_NOTE}",
    )
    max_group: int = _param(6, "budget", "most ads one flat is searched with")
    search_budget: int = _param(100_000, "budget", "most candidate groups and search states")
    search_depth: int = _param(400, "budget", "most look-alike ads searched at once (recursion)")

    # -- lifecycle: live, lingering, gone ---------------------------------------------------
    linger_days: int = _param(
        2,
        "sim",
        "a unit lingers when its other advertisers' ads vanished this many days ago "
        f"(the simulator's let flats lose their ads within 0–1 day); {SIM_NOTE}",
    )
    linger_days_complete: int = _param(
        1,
        "site",
        "one day when the crawl collected every ad the site listed: a missing ad is gone",
    )
    leftover_days: int = _param(
        7,
        "sim",
        "a lingering unit's ads still up after this many days advertise a look-alike flat "
        "(let flats' leftover ads come down within a week; the snapshot's window, "
        f"pipeline.snapshot.load.WINDOW_DAYS, must reach back further); {SIM_NOTE}",
    )
    grace_days: int = _param(
        3,
        "definition",
        "a unit is gone after this many observed days without it live (a missed page is "
        "not a letting)",
    )


#: The values used until now; the default of every function that takes parameters.
DEFAULT_PARAMS = MarketParams()


def provenance() -> dict[str, tuple[Provenance, str]]:
    """name -> (provenance, why) of every parameter, for the docs and a future table."""
    return {f.name: (f.metadata["provenance"], f.metadata["why"]) for f in fields(MarketParams)}
