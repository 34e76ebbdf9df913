"""Collecting drivers: a crawl of a site, pages saved in a browser, and a re-parse of the
archive, each storing what the parsers read (listings and the day's observations)."""
