"""What open_db sets on every connection, and that it creates the schema once."""

from __future__ import annotations

from db import open_db
from db.connection import CACHE_KIB


def test_open_db_sets_wal_keys_timeout_and_cache(tmp_path):
    db = open_db(tmp_path / "nested" / "r.db")
    pragma = {
        name: db.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "foreign_keys", "busy_timeout", "cache_size")
    }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "cache_size": -CACHE_KIB,
    }
    assert {"listings", "listing_observations", "units", "building_daily"} <= set(db.table_names())
    db["buildings"].insert({"id": 1, "name": "丽晶国际"})
    db.close()
    again = open_db(tmp_path / "nested" / "r.db")
    assert again.execute("SELECT name FROM buildings").fetchall() == [("丽晶国际",)]
