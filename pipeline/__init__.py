"""The jobs that turn stored pages into answers: crawl, ingest, reparse, resolve,
normalize, de-duplicate, snapshot, the scheduler and the CLI."""
