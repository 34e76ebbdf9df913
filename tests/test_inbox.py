"""The inbox: real files saved the ways browsers save them, in a real folder, taken in by
`rentwatch run --once` and `rentwatch ingest --watch`, each filed under done/ or rejected/."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.collect.saved import parse_saved, singlefile_day
from scrapers.record import SHANGHAI
from tests.cli_helpers import rows, run_cli
from tests.lianjia_site import Card, list_page
from tests.realpages import real_path

CHROMIUM = Path("/usr/bin/chromium")


def page(code: str, rent: str = "3100", community: str = "丽晶国际") -> bytes:
    return list_page([Card(code, community, rent)], page=1, total_pages=1, total=1)


def chrome_saved(url: str, body: bytes) -> bytes:
    """What Chrome writes with "Save page as" (complete or HTML only): a comment, no date."""
    return f"<!-- saved from url=({len(url):04d}){url} -->\n".encode() + body


def singlefile_saved(url: str, saved: str, body: bytes) -> bytes:
    """SingleFile's comment, as it writes it after the doctype."""
    comment = f"<!--\n Page saved with SingleFile \n url: {url} \n saved date: {saved}\n-->"
    return body.replace(b"<html>", b"<html>" + comment.encode(), 1)


def set_mtime(path: Path, day: str) -> None:
    stamp = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=SHANGHAI).timestamp()
    os.utime(path, (stamp, stamp))


def test_saved_pages_say_their_url_and_day():
    sf = parse_saved(
        singlefile_saved(
            "https://hz.lianjia.com/zufang/c1811000000001/",
            "Tue Nov 17 2026 23:30:00 GMT+0800 (China Standard Time)",
            page("HZ1"),
        )
    )
    assert (sf.url, sf.saved_day) == ("https://hz.lianjia.com/zufang/c1811000000001/", "2026-11-17")
    assert sf.day_from == "SingleFile's saved date"
    # 20:00 in London on 17 November is already the 18th in Hangzhou.
    assert singlefile_day("Tue Nov 17 2026 20:00:00 GMT+0000 (GMT)") == "2026-11-18"
    chrome = parse_saved(chrome_saved("https://sz.lianjia.com/zufang/", page("SZ1")))
    assert (chrome.url, chrome.saved_day) == ("https://sz.lianjia.com/zufang/", None)
    canonical = (
        b'<html><head><link href="https://hz.ke.com/xiaoqu/1/" rel="canonical"></head></html>'
    )
    assert parse_saved(canonical).url == "https://hz.ke.com/xiaoqu/1/"


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "rentwatch.toml"
    config.write_text(
        'database = "rentwatch.db"\njobstore = "jobs.sqlite"\ninbox = "inbox"\n', encoding="utf-8"
    )
    return config


def test_run_once_takes_in_the_inbox_once_per_page(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    url = "https://hz.lianjia.com/zufang/c1811000000001/"
    # Chrome, "Webpage, complete": the page and its _files folder; no date but the file's.
    (inbox / "lijing.html").write_bytes(chrome_saved(url, page("HZ1000000000000000001")))
    (inbox / "lijing_files").mkdir()
    (inbox / "lijing_files" / "style.css").write_text("p{}", encoding="utf-8")
    set_mtime(inbox / "lijing.html", "2026-11-16")
    # The same page saved twice, the second time a day later: taken in once.
    (inbox / "lijing (1).html").write_bytes((inbox / "lijing.html").read_bytes())
    set_mtime(inbox / "lijing (1).html", "2026-11-17")
    # SingleFile says its day.
    (inbox / "sf.html").write_bytes(
        singlefile_saved(
            url,
            "Tue Nov 17 2026 21:30:00 GMT+0800 (China Standard Time)",
            page("HZ1000000000000000002", "3300"),
        )
    )
    (inbox / "notes.txt").write_text("not a page", encoding="utf-8")

    result = run_cli("run", "--config", _config(tmp_path), "--once")
    assert result.exit_code == 0, result.output
    assert "inbox" in result.output and "1 rejected" in result.output

    db = tmp_path / "rentwatch.db"
    assert rows(db, "SELECT listing_id, first_seen FROM listings ORDER BY 1") == [
        ("HZ1000000000000000001", "2026-11-16"),
        ("HZ1000000000000000002", "2026-11-17"),
    ]
    runs = rows(db, "SELECT city, as_of, status, message FROM runs ORDER BY as_of")
    assert [r[:3] for r in runs] == [("hz", "2026-11-16", "ok"), ("hz", "2026-11-17", "ok")]
    assert "the day from the file's time" in runs[0][3]
    assert "the day from SingleFile's saved date" in runs[1][3]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [
        "lijing.html",
        "lijing_files",
        "sf.html",
    ]
    assert (inbox / "done" / "lijing_files" / "style.css").exists()
    assert sorted(p.name for p in (inbox / "rejected").iterdir()) == [
        "lijing (1).html",
        "lijing (1).html.reason.txt",
    ]
    reason = (inbox / "rejected" / "lijing (1).html.reason.txt").read_text(encoding="utf-8")
    assert "already taken in" in reason
    assert sorted(p.name for p in inbox.iterdir()) == ["done", "notes.txt", "rejected"]
    # The earlier days were snapshotted too: the inbox's pages reach building_daily.
    assert rows(db, "SELECT date, listings FROM building_daily ORDER BY date")[:2] == [
        ("2026-11-16", 1),
        ("2026-11-17", 1),
    ]

    # Saved again a day later, byte for byte: still never twice.
    (inbox / "again.html").write_bytes((inbox / "done" / "sf.html").read_bytes())
    result = run_cli("run", "--config", _config(tmp_path), "--once")
    assert "again.html" in " ".join(p.name for p in (inbox / "rejected").iterdir())
    assert rows(db, "SELECT count(*) FROM pages") == [(2,)]


def _watch(inbox: Path, db: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "rentwatch", "ingest", "--watch", str(inbox), "--interval", "0.2",
         "--db", str(db), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def test_watch_rejects_a_page_of_another_city_and_stops_cleanly(tmp_path):
    inbox, db = tmp_path / "inbox", tmp_path / "w.db"
    inbox.mkdir()
    proc = _watch(inbox, db, "--city", "hz")
    try:
        (inbox / "sz.html").write_bytes(
            chrome_saved("https://sz.lianjia.com/zufang/", page("SZ1000000000000000001"))
        )
        (inbox / "hz.html").write_bytes(
            chrome_saved("https://hz.lianjia.com/zufang/", page("HZ1000000000000000003"))
        )
        _wait_for(lambda: not list(inbox.glob("*.html")))
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
    reason = (inbox / "rejected" / "sz.html.reason.txt").read_text(encoding="utf-8")
    assert "a page of city 'sz' (sz.lianjia.com), not of --city 'hz'" in reason
    assert (inbox / "done" / "hz.html").exists()
    assert rows(db, "SELECT listing_id FROM listings") == [("HZ1000000000000000003",)]
    assert rows(db, "SELECT city FROM runs") == [("hz",)]


def test_ingest_needs_a_city_and_links_stay_on_the_pages_host(tmp_path, db_path):
    bare = tmp_path / "bare.html"
    bare.write_bytes(page("HZ1000000000000000004"))  # no URL, no host in its links
    result = run_cli("ingest", bare, "--source", "lianjia", db_path=db_path)
    assert result.exit_code == 1
    assert "rejected: no city" in result.output and "--city" in result.output
    assert rows(db_path, "SELECT count(*) FROM runs") == [(0,)]

    # A raw page that names no URL: its links name sz.zu.ke.com, so do its listings.
    real = real_path("lianjia/beike_zufang_list_sz_2020-03.html")
    result = run_cli("ingest", real, "--source", "beike", "--as-of", "2020-03-05", db_path=db_path)
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT DISTINCT city FROM runs") == [("sz",)]
    urls = [u for (u,) in rows(db_path, "SELECT url FROM listings")]
    assert urls and all(u.startswith("https://sz.zu.ke.com/") for u in urls)


class _Hangzhou(BaseHTTPRequestHandler):
    body = page("HZ1000000000000000005", "2900")

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.browser
def test_an_mhtml_page_saved_by_chromium(tmp_path, db_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hangzhou)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[f"--host-resolver-rules=MAP hz.lianjia.com 127.0.0.1:{server.server_port}"],
            )
            tab = browser.new_page()
            tab.goto("http://hz.lianjia.com/zufang/c1811000000001/")
            cdp = tab.context.new_cdp_session(tab)
            mhtml = cdp.send("Page.captureSnapshot", {"format": "mhtml"})["data"]
            browser.close()
    finally:
        server.shutdown()
    saved = tmp_path / "inbox" / "lijing.mhtml"
    saved.parent.mkdir()
    saved.write_text(mhtml, encoding="utf-8", newline="")
    set_mtime(saved, "2020-01-01")  # the MHTML's own Date header wins over the file's time
    result = run_cli("ingest", "--json", saved, db_path=db_path)
    assert result.exit_code == 0, result.output
    today = datetime.now(SHANGHAI).date().isoformat()
    assert rows(db_path, "SELECT source, city, as_of FROM runs") == [("lianjia", "hz", today)]
    assert rows(db_path, "SELECT listing_id, rent FROM listings") == [
        ("HZ1000000000000000005", 2900.0)
    ]
    assert rows(db_path, "SELECT url FROM pages") == [
        ("http://hz.lianjia.com/zufang/c1811000000001/",)
    ]


def test_a_login_or_service_host_never_gives_a_page_its_city(tmp_path, db_path):
    # Links to the site's login and shop hosts only: they name no city, so none is guessed.
    service = page("HZ1000000000000000006").replace(
        b"</body>",
        b'<a href="https://upassport.lianjia.com/login">login</a>'
        b'<a href="https://upassport.lianjia.com/freshCaptch">x</a>'
        b'<a href="https://dianpu.lianjia.com/1000001000310115">shop</a></body>',
    )
    (tmp_path / "service.html").write_bytes(service)
    result = run_cli("ingest", tmp_path / "service.html", "--source", "lianjia", db_path=db_path)
    assert result.exit_code == 1
    assert "rejected: no city" in result.output
    assert rows(db_path, "SELECT count(*) FROM runs") == [(0,)]

    # A real Beike page read as Lianjia's (one template): it links to upassport.lianjia.com
    # too, but its host is sz.zu.ke.com, where its listings are; reparse gives them back.
    real = real_path("lianjia/beike_zufang_list_sz_2020-03.html")
    result = run_cli(
        "ingest", real, "--source", "lianjia", "--as-of", "2020-03-05", db_path=db_path
    )
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT source, city FROM runs") == [("lianjia", "sz")]
    ingested = rows(db_path, "SELECT listing_id, url, rent FROM listings ORDER BY 1")
    assert ingested and all(u.startswith("https://sz.zu.ke.com/") for _, u, _ in ingested)
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM listing_observations")
        conn.execute("DELETE FROM listings")
    assert run_cli("reparse", db_path=db_path).exit_code == 0
    assert rows(db_path, "SELECT listing_id, url, rent FROM listings ORDER BY 1") == ingested
