"""The collecting side of rentwatch: the fetch layer and one module per listing site.

Parsing is pure (bytes and the page's URL in, records out) and never touches the
network or the database; fetching lives in :mod:`scrapers.fetch`.
"""
