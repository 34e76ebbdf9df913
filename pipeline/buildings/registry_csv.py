"""The building registry CSV: read and checked whole before anything is stored."""

from __future__ import annotations

from pathlib import Path

from db.buildings import BuildingRow
from pipeline.csvfile import CsvFileProblem, read_csv_file

REQUIRED_COLUMNS = ("name", "aliases", "city", "district", "total_units")


class RegistryError(ValueError):
    """A building CSV that cannot be imported; nothing of it was written."""


def read_buildings_csv(path: str | Path) -> list[BuildingRow]:
    """Read and validate the whole file first, so a bad line imports nothing."""
    path = Path(path)
    try:
        # Excel on a Chinese Windows saves CSV as GBK
        header, records = read_csv_file(path, ("utf-8-sig", "gb18030"), "UTF-8 or GBK")
    except CsvFileProblem as exc:
        raise RegistryError(str(exc)) from exc.__cause__
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RegistryError(
            f"{path}: missing column(s) {', '.join(missing)}; expected header "
            f"{','.join(REQUIRED_COLUMNS)} (optional: subdistrict, site_ids)"
        )
    rows: list[BuildingRow] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, record in records:
        row = {k: v for k, v in record.items() if isinstance(v, str)}
        if None in record:
            raise RegistryError(f"{path}, line {line}: more fields than the header has columns")
        name = (row.get("name") or "").strip()
        if not name:
            raise RegistryError(f"{path}, line {line}: empty building name")
        city = (row.get("city") or "").strip()
        if (city, name) in first_line:
            raise RegistryError(
                f"{path}, line {line}: building {name!r} is already on line "
                f"{first_line[city, name]}; one line per building (put other spellings in aliases)"
            )
        first_line[city, name] = line
        units_text = (row.get("total_units") or "").strip()
        total_units: int | None = None
        if units_text:
            try:
                total_units = int(units_text)
            except ValueError:
                raise RegistryError(
                    f"{path}, line {line}: total_units {units_text!r} is not a whole number"
                ) from None
            if total_units < 0:
                raise RegistryError(f"{path}, line {line}: total_units {total_units} is negative")
        site_ids = []
        for item in (row.get("site_ids") or "").split("|"):
            item = item.strip()
            if not item:
                continue
            source, sep, site_id = item.partition(":")
            if not sep or not source.strip() or not site_id.strip():
                raise RegistryError(
                    f"{path}, line {line}: site_ids item {item!r} is not source:id, "
                    "e.g. lianjia:1811043464378"
                )
            problem = _site_id_problem(source.strip(), site_id.strip())
            if problem:
                raise RegistryError(f"{path}, line {line}: site_ids item {item!r}: {problem}")
            site_ids.append((source.strip(), site_id.strip()))
        rows.append(
            BuildingRow(
                line=line,
                name=name,
                aliases=[a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()],
                city=city,
                district=(row.get("district") or "").strip(),
                total_units=total_units,
                subdistrict=(row.get("subdistrict") or "").strip() or None,
                site_ids=site_ids,
            )
        )
    return rows


def _site_id_problem(source_name: str, site_id: str) -> str | None:
    """Why ``source:site_id`` names no building on a known source, or None."""
    from scrapers.errors import UnknownSource
    from scrapers.registry import get_source

    try:
        source = get_source(source_name)
    except UnknownSource as exc:
        return str(exc)
    return source.site_id_problem(site_id)
