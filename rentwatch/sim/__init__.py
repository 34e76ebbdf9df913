"""A simulated Hangzhou rental market served in Lianjia's markup, with its ground truth.

``MarketSpec`` declares every parameter of its generator (the defaults are the demo's
market); ``run_simulation(db_path, days=30, spec=…)`` runs it through the real scrape and
snapshot; ``evaluate(db, truth)`` scores ``units`` and ``median_rent`` against the truth.
The research scores that read which flat each ad advertises are in ``bench/scoring.py``.
"""

from rentwatch.sim.market import Market, MarketSpec, Truth
from rentwatch.sim.run import SimResult, evaluate, run_simulation
from rentwatch.sim.server import SimServer

__all__ = [
    "Market",
    "MarketSpec",
    "SimResult",
    "SimServer",
    "Truth",
    "evaluate",
    "run_simulation",
]
