"""Units, not ads: normalizing listings, matching ads of one flat, grouping look-alike ads
into flats, and each flat's life on the market."""
