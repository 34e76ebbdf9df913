"""Values checked at the edge, through the CLI: numbers no listing shows are not stored as
rents or areas, and a person's CSV file is read strictly (CR line ends accepted, an
unclosed quote and a name given twice refused with their line numbers)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import rows, run_cli
from tests.lianjia_site import Card, list_page

RENTWATCH = str(Path(sys.executable).with_name("rentwatch"))
REGISTRY = "name,aliases,city,district,total_units,subdistrict,site_ids\n"


def rentwatch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([RENTWATCH, *args], capture_output=True, text=True, timeout=60)


def test_negative_exponent_and_zero_numbers_are_not_stored_as_rents_or_areas(tmp_path, db_path):
    odd = {
        "HZ2600000000000000001": ("-3000", "53"),
        "HZ2600000000000000002": ("1e309", "53"),
        "HZ2600000000000000003": ("3000", "0"),
        "HZ2600000000000000004": ("3000", "1e309"),
        "HZ2600000000000000005": ("3000", "-35"),
    }
    cards = [Card(code, "丽晶国际", rent, area=area) for code, (rent, area) in odd.items()]
    cards.append(Card("HZ2600000000000000009", "丽晶国际", "3200", area="48"))
    page = tmp_path / "list.html"
    page.write_bytes(list_page(cards, page=1, total_pages=1, total=len(cards)))
    # The page names no host (relative links only): its city is given.
    result = run_cli("ingest", page, "--source", "lianjia", "--city", "hz",
                     "--as-of", "2026-10-01", db_path=db_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT listing_id, rent, area FROM listings ORDER BY listing_id") == [
        ("HZ2600000000000000001", None, 53.0),
        ("HZ2600000000000000002", None, 53.0),
        ("HZ2600000000000000003", 3000.0, None),
        ("HZ2600000000000000004", 3000.0, None),
        ("HZ2600000000000000005", 3000.0, None),
        ("HZ2600000000000000009", 3200.0, 48.0),
    ]


@pytest.mark.parametrize("line_end", ["\r", "\r\n", "\n"])
def test_buildings_import_reads_any_line_end(tmp_path, db_path, line_end):
    text = (REGISTRY + "丽晶国际,,hz,上城,1200,九堡,\n星耀城,,hz,滨江,,,\n").replace("\n", line_end)
    path = tmp_path / "b.csv"
    path.write_bytes(text.encode("utf-8"))
    result = rentwatch("buildings", "import", str(path), "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert rows(db_path, "SELECT name, total_units FROM buildings ORDER BY id") == [
        ("丽晶国际", 1200),
        ("星耀城", None),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '丽晶国际,,hz,上城,1200,九堡,\n"星耀城,,hz,滨江,,,\n金色海岸,,hz,滨江,,,\n',
            "line 3: a quote opened here is not closed",
        ),
        (
            "丽晶国际,,hz,上城,1200,九堡,\n星耀城,,hz,滨江,,,\n丽晶国际,,hz,上城,1300,九堡,\n",
            "line 4: building '丽晶国际' is already on line 2",
        ),
    ],
)
def test_buildings_import_refuses_an_unclosed_quote_or_a_name_twice(
    tmp_path, db_path, body, message
):
    path = tmp_path / "b.csv"
    path.write_text(REGISTRY + body, encoding="utf-8")
    result = rentwatch("buildings", "import", str(path), "--db", str(db_path))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not db_path.exists() or rows(db_path, "SELECT count(*) FROM buildings") == [(0,)]


def _registry(tmp_path, db_path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        REGISTRY + "丽晶国际,,hz,上城,1200,九堡,\n星耀城,,hz,滨江,,,\n", encoding="utf-8"
    )
    assert rentwatch("buildings", "import", str(path), "--db", str(db_path)).returncode == 0


def test_observe_import_reads_cr_line_ends(tmp_path, db_path):
    _registry(tmp_path, db_path)
    path = tmp_path / "o.csv"
    path.write_bytes(
        "building,date,vacant,note\r丽晶国际,2026-10-01,7,\r星耀城,2026-10-01,2,\r".encode()
    )
    result = rentwatch("observe", "import", str(path), "--db", str(db_path))
    assert result.returncode == 0, result.stderr
    assert rows(db_path, "SELECT count(*), sum(vacant) FROM manual_observations") == [(2, 9)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '丽晶国际,2026-10-01,7,"seen at the door\n星耀城,2026-10-01,2,\n',
            "line 2: a quote opened here is not closed",
        ),
        (
            "丽晶国际,2026-10-01,7,\n星耀城,2026-10-01,2,\n丽晶国际,2026-10-01,9,\n",
            "line 4: 丽晶国际 on 2026-10-01 is already on line 2",
        ),
    ],
)
def test_observe_import_refuses_an_unclosed_quote_or_a_count_twice(
    tmp_path, db_path, body, message
):
    _registry(tmp_path, db_path)
    path = tmp_path / "o.csv"
    path.write_text("building,date,vacant,note\n" + body, encoding="utf-8")
    result = rentwatch("observe", "import", str(path), "--db", str(db_path))
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert rows(db_path, "SELECT count(*) FROM manual_observations") == [(0,)]
