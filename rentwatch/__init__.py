"""rentwatch, the application a person runs: the command line, its configuration, the
scheduler, the Datasette site, and the demo with its simulated market.

The steps it drives live in :mod:`scrapers` (collecting), :mod:`pipeline` (buildings,
units, snapshots) and :mod:`db` (storage).
"""
