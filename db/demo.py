"""The demo's marker: a database ``rentwatch demo`` made says so, and how it was made."""

from __future__ import annotations

import sqlite_utils

from db.transactions import write_transaction


def is_demo_database(db: sqlite_utils.Database) -> bool:
    return "demo_market" in db.table_names()


def record_demo_market(
    db: sqlite_utils.Database, *, seed: int, start: str, days: int, cut_chance: float
) -> None:
    with write_transaction(db):
        db.table("demo_market").insert(
            {
                "seed": seed,
                "start": start,
                "days": days,
                "cut_chance": cut_chance,
                "note": "simulated data, not a real market",
            }
        )
