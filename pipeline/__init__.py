"""The steps that turn stored pages into answers, in the order of the flow: collecting
(:mod:`pipeline.collect`), buildings (:mod:`pipeline.buildings`), units
(:mod:`pipeline.units`) and the daily snapshot (:mod:`pipeline.snapshot`)."""
