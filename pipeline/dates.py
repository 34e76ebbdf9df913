"""Observation dates: Asia/Shanghai calendar days, passed in, never read deep inside the code."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvalidDate(ValueError):
    pass


def today_shanghai() -> str:
    return datetime.now(SHANGHAI).date().isoformat()


def parse_day(value: str, *, what: str = "date") -> str:
    """Validate a YYYY-MM-DD string and return it in ISO form."""
    try:
        if not _DAY.fullmatch(value.strip()):
            raise ValueError(value)
        return date.fromisoformat(value.strip()).isoformat()
    except (ValueError, AttributeError) as exc:
        raise InvalidDate(
            f"invalid {what} {value!r}: expected YYYY-MM-DD, e.g. 2026-11-25"
        ) from exc


def day_range(since: str, until: str) -> list[str]:
    start, end = date.fromisoformat(since), date.fromisoformat(until)
    if end < start:
        raise InvalidDate(f"--since {since} is after {until}")
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def shift_day(day: str, days: int) -> str:
    """The day ``days`` after ``day`` (before it when negative)."""
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def days_between(a: str, b: str) -> int:
    """Days from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    return (date.fromisoformat(b) - date.fromisoformat(a)).days
