"""Reads for scoring the estimates against a simulated market's truth (the demo, bench/)."""

from __future__ import annotations

from typing import Any

import sqlite_utils


def daily_rows_by_name(db: sqlite_utils.Database) -> dict[tuple[str, str], dict[str, Any]]:
    """Every ``building_daily`` row, keyed by (building name, day)."""
    return {
        (r["name"], r["date"]): r
        for r in db.query(
            "SELECT b.name, d.* FROM building_daily d JOIN buildings b ON b.id = d.building_id"
        )
    }


def city_parameter_by_day(db: sqlite_utils.Database, parameter: str) -> dict[str, float]:
    """A city-wide ``market_params`` value by day (the zoo's markets are one city each)."""
    return {
        r["date"]: r["value"]
        for r in db.query(
            "SELECT date, value FROM market_params WHERE building_id IS NULL AND parameter = ?",
            [parameter],
        )
    }


def observed_rents(db: sqlite_utils.Database) -> list[tuple[str, str, float, int | None]]:
    """(site's ad code, day, rent, unit id) of every observation with a rent."""
    return db.execute(
        "SELECT l.listing_id, o.date, o.rent, l.unit_id FROM listing_observations o "
        "JOIN listings l ON l.id = o.listing_id WHERE o.rent IS NOT NULL"
    ).fetchall()


def observed_units(db: sqlite_utils.Database) -> list[tuple[str, int, str]]:
    """(site's ad code, unit id, day) of every observation of an ad put in a unit."""
    return db.execute(
        "SELECT l.listing_id, l.unit_id, o.date FROM listing_observations o "
        "JOIN listings l ON l.id = o.listing_id WHERE l.unit_id IS NOT NULL"
    ).fetchall()


def unit_ads(db: sqlite_utils.Database) -> list[tuple[str, int, str | None]]:
    """(site's ad code, unit id, first seen) of every ad put in a unit."""
    return db.execute(
        "SELECT listing_id, unit_id, first_seen FROM listings WHERE unit_id IS NOT NULL"
    ).fetchall()


def repost_links(db: sqlite_utils.Database) -> list[tuple[str, int, str | None, str]]:
    """(site's ad code, unit id, first seen, link kind) of every repost link."""
    return db.execute(
        "SELECT l.listing_id, k.unit_id, l.first_seen, k.kind FROM unit_links k "
        "JOIN listings l ON l.id = k.listing_id WHERE k.kind IN ('repost', 'unseen_repost')"
    ).fetchall()
