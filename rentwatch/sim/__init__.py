"""A simulated Hangzhou rental market served in Lianjia's markup, with its ground truth.

``run_simulation(db_path, days=30)`` runs it through the real scrape and snapshot;
``evaluate(db, truth)`` scores ``units`` and ``median_rent`` against the truth;
``grouping_floor(db, market)`` gives the ``median_rent`` error perfect de-duplication
would leave; ``grouping_errors(db, market)`` how often the units split a flat or merge
two.
"""

from rentwatch.sim.market import Market, Truth
from rentwatch.sim.run import SimResult, evaluate, grouping_errors, grouping_floor, run_simulation
from rentwatch.sim.server import SimServer

__all__ = [
    "Market",
    "SimResult",
    "SimServer",
    "Truth",
    "evaluate",
    "grouping_errors",
    "grouping_floor",
    "run_simulation",
]
