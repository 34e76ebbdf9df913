"""datasette-dashboards configuration: Vega-Lite charts over the daily snapshot tables.

Charts render as SVG (``usermeta.embedOptions``) so that a person can select and copy
values and a test can count the drawn marks. Null values stay gaps: Vega-Lite drops
invalid points rather than drawing them at zero.
"""

from __future__ import annotations

from typing import Any

from rentwatch.datasette import queries

#: Data layers leave out the hint row; the hint layer draws only it, at the top left.
_DATA_ONLY = [{"filter": "datum.hint == null"}]
_HINT_LAYER = {
    "transform": [{"filter": "datum.hint != null"}],
    "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 13, "color": "#555"},
    "encoding": {"text": {"field": "hint"}, "x": {"value": 4}, "y": {"value": 4}},
}
_EMBED = {"embedOptions": {"renderer": "svg", "actions": {"export": True, "source": False}}}
_DATE = {
    "field": "date",
    "type": "temporal",
    "title": "day",
    "axis": {"format": "%m-%d", "labelOverlap": "greedy", "labelSeparation": 6},
}


def _band_chart(
    low: str, high: str, line: str, title: str, color: str, band_title: str, *, zero: bool = True
) -> dict[str, Any]:
    """A line with a shaded low-high band, e.g. empty units with their uncertainty."""
    return {
        "usermeta": _EMBED,
        "height": 240,
        "layer": [
            {
                "transform": _DATA_ONLY,
                "mark": {"type": "area", "opacity": 0.25, "color": color},
                "encoding": {
                    "x": _DATE,
                    "y": {
                        "field": low,
                        "type": "quantitative",
                        "title": title,
                        "scale": {"zero": zero},
                    },
                    "y2": {"field": high},
                    "tooltip": [
                        {"field": "date", "type": "temporal"},
                        {"field": low, "type": "quantitative", "title": f"{band_title} low"},
                        {"field": high, "type": "quantitative", "title": f"{band_title} high"},
                    ],
                },
            },
            {
                "transform": _DATA_ONLY,
                "mark": {"type": "line", "color": color, "point": {"color": color}},
                "encoding": {
                    "x": _DATE,
                    "y": {
                        "field": line,
                        "type": "quantitative",
                        "title": title,
                        "scale": {"zero": zero},
                    },
                    "tooltip": [
                        {"field": "date", "type": "temporal"},
                        {"field": line, "type": "quantitative", "title": title},
                    ],
                },
            },
            _HINT_LAYER,
        ],
    }


def _units_chart() -> dict[str, Any]:
    return _band_chart("units_low", "units_high", "units", "empty units", "#d62728", "estimate")


def _rent_chart() -> dict[str, Any]:
    # Rents move by a few per cent: an axis from zero would flatten every change.
    return _band_chart(
        "p25_rent", "p75_rent", "median_rent", "asking rent 元/月", "#1f77b4", "25–75%", zero=False
    )


def _series_chart(color_field: str, dash_field: str | None = None) -> dict[str, Any]:
    encoding: dict[str, Any] = {
        "x": _DATE,
        "y": {"field": "count", "type": "quantitative", "title": "empty flats"},
        "color": {"field": color_field, "type": "nominal", "legend": {"orient": "bottom"}},
        "tooltip": [
            {"field": "date", "type": "temporal"},
            {"field": color_field, "type": "nominal"},
            {"field": "count", "type": "quantitative"},
        ],
    }
    if dash_field:
        encoding["strokeDash"] = {"field": dash_field, "type": "nominal"}
        encoding["tooltip"].insert(1, {"field": dash_field, "type": "nominal"})
    return {
        "usermeta": _EMBED,
        "height": 240,
        "layer": [
            {
                "transform": _DATA_ONLY,
                "mark": {"type": "line", "point": True},
                "encoding": encoding,
            },
            _HINT_LAYER,
        ],
    }


def build_dashboards(
    db_name: str, *, default_building: str | None = None, default_area: str | None = None
) -> dict[str, Any]:
    """The ``datasette-dashboards`` plugin configuration for database ``db_name``."""
    building_filter: dict[str, Any] = {
        "name": "Building",
        "type": "select",
        "db": db_name,
        "query": queries.BUILDING_NAMES,
    }
    if default_building:
        building_filter["default"] = default_building
    area_filter: dict[str, Any] = {
        "name": "District / 板块",
        "type": "select",
        "db": db_name,
        "query": queries.AREA_NAMES,
    }
    if default_area:
        area_filter["default"] = default_area

    def chart(title: str, sql: str, display: dict[str, Any]) -> dict[str, Any]:
        return {
            "title": title,
            "db": db_name,
            "query": sql,
            "library": "vega-lite",
            "display": display,
        }

    building_days = queries.with_hint(queries.BUILDING_DAYS, queries.HINT_NO_SNAPSHOTS)
    area_days = queries.with_hint(queries.AREA_DAYS, queries.HINT_NO_SNAPSHOTS)
    return {
        "building": {
            "title": "One building",
            "description": (
                "Estimated empty flats with their 90 % interval, asking rents with the "
                "25–75% band, and notice-board counts beside the estimate and beside the "
                "experimental count model, with and without the count. Gaps are days "
                "without data, not zero."
            ),
            "layout": [["units", "rent"], ["notice_board", "notice_board"]],
            "filters": {"building": building_filter},
            "charts": {
                "units": chart(
                    "Empty units (estimate, 90 % interval)", building_days, _units_chart()
                ),
                "rent": chart(
                    "Median asking rent, 元/月 (25–75% band)", building_days, _rent_chart()
                ),
                "notice_board": chart(
                    "Notice board count beside the estimate",
                    queries.with_hint(
                        queries.BUILDING_NOTICE_BOARD,
                        queries.HINT_NO_COUNTS,
                        unless="series = 'notice board (counted)'",
                    ),
                    _series_chart("series"),
                ),
            },
        },
        "district": {
            "title": "One district or 板块",
            "description": (
                "The same measures over the buildings of a district (区) or an area (板块) "
                "such as 九堡 or 钱江世纪城."
            ),
            "layout": [["units", "rent"]],
            "filters": {"area": area_filter},
            "charts": {
                "units": chart("Empty units (estimate, 90 % interval)", area_days, _units_chart()),
                "rent": chart("Median asking rent, 元/月 (25–75% band)", area_days, _rent_chart()),
            },
        },
        "notice-board": {
            "title": "Notice boards against the estimate",
            "description": (
                "Every building where someone counted the flats on the notice board: the "
                "counts (dashed) beside rentwatch's estimate from the listings (solid)."
            ),
            "layout": [["all"]],
            "charts": {
                "all": chart(
                    "Counted and estimated empty flats",
                    queries.with_hint(queries.NOTICE_BOARD_ALL, queries.HINT_NO_COUNTS),
                    _series_chart("building", "series"),
                ),
            },
        },
    }
