"""No phone number and no agent's name in the database file: not in the archive of real
pages (rejected ones included), not in bodies archived before the scrubber existed, in no
encoding the archive stores. And parsing never needed them."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from pathlib import Path

import httpx
import pytest

from db import open_db, privacy
from db.pages import CODEC, decompress_body
from tests.cli_helpers import run_cli
from tests.lianjia_site import Card, list_page
from tests.realpages import real_dir, real_path

#: In the saved 安居客 小区 page: a property-office mobile, two brokers' mobiles, and the
#: names of five brokers (answers, expert reviews, the main broker).
ANJUKE_MOBILES = ["15271659433", "18986269929", "15997486373"]
ANJUKE_NAMES = ["王一凡", "闵家星", "赵宏亮", "贾建迪", "刘培培"]
#: Agents' names elsewhere in the real pages (Beike, 58, Ziroom).
OTHER_NAMES = ["王樟", "何建文", "张淮北", "廖志朋", "苏娜", "牛贵隆", "许静捷"]
ENCODINGS = ("utf-8", "gb18030", "utf-16-le", "utf-16-be")
#: Real folders and the source each is ingested as.
REAL = [("lianjia", "lianjia"), ("58", "58"), ("ziroom", "ziroom"), ("anjuke", "anjuke")]
#: The city codes the real pages' file names carry.
FIXTURE_CITIES = {"hz", "sz", "bj", "sh", "wh"}


def forms(secret: str) -> list[bytes]:
    out = [secret.encode(e) for e in ENCODINGS]
    if secret.isdigit():  # full-width digits, as a page may write them
        wide = "".join(chr(ord(c) + 0xFEE0) for c in secret)
        out += [wide.encode(e) for e in ENCODINGS]
    return out


def stored_bytes(db_path: Path) -> list[tuple[str, bytes]]:
    """The database file (WAL checkpointed into it) and every archived body, decompressed."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        bodies = conn.execute("SELECT hash, body, compression FROM page_bodies").fetchall()
    finally:
        conn.close()
    out = [("file", db_path.read_bytes())]
    for digest, data, compression in bodies:
        out.append((digest, decompress_body(data, compression)))
    return out


def assert_absent(db_path: Path, secrets: list[str]) -> None:
    for where, data in stored_bytes(db_path):
        for secret in secrets:
            for form in forms(secret):
                assert form not in data, f"{secret!r} ({form!r}) stored in {where}"


def listings(db_path: Path) -> list[dict]:
    """Every stored field of every listing but its row id."""
    with sqlite3.connect(db_path) as conn:
        cursor = conn.execute("SELECT * FROM listings ORDER BY source, listing_id")
        names = [d[0] for d in cursor.description]
        return [{k: v for k, v in zip(names, row, strict=True) if k != "id"} for row in cursor]


def by_city(folder: Path) -> dict[str | None, list[Path]]:
    """The folder's pages by the city code in their file names (…_list_sz_2020-03.html)."""
    pages: dict[str | None, list[Path]] = {}
    for page in sorted(folder.glob("*.html")):
        city = next((w for w in page.stem.split("_") if w in FIXTURE_CITIES), None)
        pages.setdefault(city, []).append(page)
    return pages


def test_real_pages_are_archived_without_phones_or_names_and_reparse_gives_the_same_records(
    tmp_path,
):
    db_path = tmp_path / "rw.db"
    for folder, source in REAL:
        # Some are rejected (安居客 小区 and captcha pages): archived all the same. Pages that
        # name no city's host (Ziroom's www and detail pages) get the city their file names,
        # so that they are archived (and their agents' names looked for) too.
        for city, pages in by_city(real_dir(folder)).items():
            given = ["--city", city] if city else []
            run_cli("ingest", *pages, "--source", source, *given, "--as-of", "2024-10-24",
                    db_path=db_path)  # fmt: skip
    with sqlite3.connect(db_path) as conn:
        archived = conn.execute("SELECT count(*) FROM pages WHERE source = 'anjuke'").fetchone()
    assert archived == (3,)
    before = listings(db_path)
    assert len(before) > 100  # the Beike, 58 and Ziroom lists parsed

    assert_absent(db_path, ANJUKE_MOBILES + ANJUKE_NAMES + OTHER_NAMES)

    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM listing_observations")
        conn.execute("DELETE FROM listings")
    result = run_cli("reparse", db_path=db_path)
    # The pages ingest rejected (小区, detail, captcha pages) are rejected again, for the
    # same reason; every other page gives back the same records from its scrubbed body.
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert errors and all(", not a " in line for line in errors), result.output
    after = listings(db_path)
    # Saved Ziroom detail pages too: reparse tries them as the kinds ingest did.
    assert after == before


def test_a_migration_scrubs_bodies_archived_before(tmp_path):
    db_path = tmp_path / "old.db"
    open_db(db_path).close()
    page = real_path("anjuke/anjuke_community_detail_wh_2024-10.html").read_bytes()
    gbk = "<p>经纪人：赵宏亮 电话 159 9748 6373</p>".encode("gbk")
    conn = sqlite3.connect(db_path)
    with conn:  # an archive as an older rentwatch wrote it: bodies as they came
        conn.execute("DELETE FROM _migrations WHERE name LIKE 'm014%'")
        for body, encoding in ((page, "utf-8"), (gbk, "gbk")):
            digest = hashlib.sha256(body).hexdigest()
            conn.execute(
                "INSERT INTO page_bodies (hash, body, size, compression) VALUES (?, ?, ?, ?)",
                [digest, zlib.compress(body) if encoding == "utf-8" else body, len(body),
                 "zlib" if encoding == "utf-8" else None],
            )  # fmt: skip
            conn.execute(
                "INSERT INTO pages (source, url, kind, status, content_hash, encoding, blocked, "
                "parse_status) VALUES ('anjuke', 'file:x', 'saved', 200, ?, ?, 0, 'error')",
                [digest, encoding],
            )
    conn.close()
    assert forms("赵宏亮")[1] in db_path.read_bytes()  # the GBK body, uncompressed

    result = run_cli("runs", db_path=db_path)  # any command opens and migrates the database
    assert result.exit_code == 0, result.output

    assert_absent(db_path, ANJUKE_MOBILES + ANJUKE_NAMES)
    with sqlite3.connect(db_path) as conn:
        hashes = conn.execute(
            "SELECT p.content_hash, b.hash FROM pages p LEFT JOIN page_bodies b "
            "ON b.hash = p.content_hash ORDER BY p.id"
        ).fetchall()
        assert all(a == b for a, b in hashes) and len(hashes) == 2
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        gbk_body = conn.execute(
            "SELECT body FROM page_bodies WHERE hash = ?", [hashes[1][0]]
        ).fetchone()[0]
    assert zlib.decompress(gbk_body).decode("gbk").startswith("<p>经纪人：[name removed]")


OBFUSCATED = {
    "13812345678": "13812345678",
    "138****5678": "138****5678",
    "138 1234 5678": "138 1234 5678",
    "138-1234-5678": "138-1234-5678",
    "+86 13812345678": "+86 13812345678",
    "１３８１２３４５６７８": "１３８１２３４５６７８",
    "0571-87654321": "0571-87654321",
    "(0571)8765 4321": "(0571)8765 4321",
    "400-100-1111转123": "400-100-1111转123",
    "4008580543": "4008580543",
}


def test_obfuscated_phone_forms_and_agent_names_leave_a_saved_page_before_it_is_archived(
    tmp_path,
):
    cards = [
        Card(f"HZ{2400000000000000000 + i}", "丽晶国际", str(3000 + 100 * i)) for i in range(5)
    ]
    page = list_page(cards, page=1, total_pages=1, total=5).decode("utf-8")
    contacts = "".join(
        f'<p class="agent-contact">经纪人：张{"一二三四五六七八九十"[i]}明 电话 {number}</p>'
        for i, number in enumerate(OBFUSCATED)
    )
    page = page.replace("</body>", contacts + "</body>")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "list.html").write_text(page, encoding="utf-8")
    (saved / "list_gbk.html").write_bytes(page.replace('charset="utf-8"', 'charset="gbk"')
                                          .encode("gbk"))  # fmt: skip
    db_path = tmp_path / "rw.db"
    # The pages name no host (relative links only): their city is given.
    result = run_cli("ingest", saved, "--source", "lianjia", "--city", "hz",
                     "--as-of", "2026-10-01", db_path=db_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*), min(rent), max(rent) FROM listings").fetchone() == (
            5, 3000.0, 3400.0,
        )  # fmt: skip
    names = [f"张{c}明" for c in "一二三四五六七八九十"]
    digits = [n for n in OBFUSCATED if n.isdigit()]
    assert_absent(db_path, names + digits)
    bodies = [data for where, data in stored_bytes(db_path) if where != "file"]
    assert len(bodies) == 2
    text = bodies[0].decode("utf-8", "replace") + bodies[1].decode("gbk", "replace")
    for number in OBFUSCATED:
        assert number not in text
    assert text.count("[phone removed]") == 2 * len(OBFUSCATED)
    assert "丽晶国际" in text  # the rest of the page is kept


def _serve(db_path: Path, *args: str) -> tuple[subprocess.Popen, httpx.Client]:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("rentwatch")
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", str(db_path), "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.get("/-/versions.json")
            return proc, client
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"rentwatch serve did not start: {proc.stdout.read()}")
            time.sleep(0.1)


def _stop(proc: subprocess.Popen, client: httpx.Client) -> str:
    client.close()
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    return out


def test_serve_keeps_page_bodies_unless_asked_and_warns_off_loopback(tmp_path):
    saved = tmp_path / "list.html"
    cards = [Card(f"HZ{2500000000000000000 + i}", "丽晶国际", str(3000 + i)) for i in range(3)]
    saved.write_bytes(list_page(cards, page=1, total_pages=1, total=3))
    db_path = tmp_path / "rw.db"
    result = run_cli("ingest", saved, "--source", "lianjia", "--city", "hz",
                     "--as-of", "2026-10-01", db_path=db_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    reads = {
        "table": ("/rw/page_bodies.json", {"_shape": "array"}),
        "sql": (
            "/rw.json",
            {"sql": "select body, hex(body) as hexed from page_bodies", "_shape": "array"},
        ),
    }

    proc, client = _serve(db_path)
    try:
        hidden = {k: client.get(url, params=params).json() for k, (url, params) in reads.items()}
        sizes = client.get("/rw.json", params={"sql": "select size from page_bodies",
                                               "_shape": "array"}).json()  # fmt: skip
    finally:
        _stop(proc, client)
    assert len(hidden["table"]) == 1 and hidden["table"][0]["body"] is None
    assert hidden["sql"] == [{"body": None, "hexed": ""}]
    assert sizes[0]["size"] > 1000  # the row is there; only its body is withheld

    proc, client = _serve(db_path, "--with-pages")
    try:
        url, params = reads["sql"]
        shown = client.get(url, params=params).json()
    finally:
        _stop(proc, client)
    assert decompress_body(bytes.fromhex(shown[0]["hexed"]), CODEC) == saved.read_bytes()

    proc, client = _serve(db_path, "--host", "0.0.0.0")
    out = _stop(proc, client)
    assert "Warning: listening on 0.0.0.0" in out and "page bodies are not served" in out
    proc, client = _serve(db_path)
    out = _stop(proc, client)
    assert "Warning" not in out


def test_the_lower_cased_copy_finds_what_ignorecase_finds_for_every_character():
    """The name patterns run case-sensitively over ``privacy._folded`` text instead of
    under IGNORECASE: each character of theirs must match the folded character exactly
    where it matched the original under IGNORECASE, for every code point, and the copy
    must keep every offset."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    folded = privacy._folded(every)
    assert len(folded) == len(every)
    letters = sorted({c for p in privacy._NAME_PLACES for c in p.pattern if c.isascii()})
    classes = [r"\w", r"\s", r"\d", "[a-z]", '[^"]', "[^>]", "[^<]", "[^{}]", r"[\u4e00-\u9fff]"]
    for atom in [re.escape(c) for c in letters] + classes:
        expected = [m.start() for m in re.finditer(atom, every, re.IGNORECASE)]
        assert [m.start() for m in re.finditer(atom, folded)] == expected, atom


def test_names_in_any_letter_case_and_names_sharing_a_character_are_removed():
    page = (
        '<b CLASS="Broker-Name">王五</b> AGENT_NAME="赵六" uſer_name=钱七 '  # ſ is an s to IGNORECASE
        '<span class="listjjr">凌枫林</span><span class="listjjr">林丹</span> 凌枫林丹 林丹凌 '
        "李王五四"
    )
    cleaned = privacy.scrub_text(page)
    assert cleaned == (
        '<b CLASS="Broker-Name">[name removed]</b> AGENT_NAME="[name removed]" '
        "uſer_name=[name removed] "
        '<span class="listjjr">[name removed]</span><span class="listjjr">[name removed]</span>'
        " [name removed]丹 [name removed]凌 李[name removed]四"
    )  # the longer name first: 凌枫林丹 keeps its 丹, as it always did


def test_a_number_inside_an_id_a_url_or_a_longer_number_is_kept():
    kept = ["id=13812345678", "/4008580543", "a13812345678", "913812345678", "138123456789",
            "x.0571-87654321", "%13812345678", "_13812345678"]  # fmt: skip
    for text in kept:
        assert privacy.scrub_text(text) == text
    for text in ["13812345678", "电话13812345678", "tel:+86 13812345678", "(0571)8765 4321。"]:
        assert "[phone removed]" in privacy.scrub_text(text) and not re.search(
            r"\d{4}", privacy.scrub_text(text)
        ), text


def test_every_real_page_scrubbed_keeps_no_number_or_name_and_is_scrubbed_once_for_all():
    pages = sorted(real_path("lianjia").parent.rglob("*.html"))  # skips without the pages
    assert len(pages) >= 15
    found: set[str] = set()
    for path in pages:
        body = path.read_bytes()
        codec, text = privacy._decoded(body, None)
        names = {
            m.group(1) for p in privacy._NAME_PLACES for m in p.finditer(privacy._folded(text))
        }
        clean = privacy.scrub_body(body)
        assert privacy.scrub_body(clean) == clean, path.name
        clean_text = clean.decode(codec, "surrogateescape")
        assert privacy._PHONE.search(clean_text) is None, path.name
        assert not [name for name in names if name in clean_text], path.name
        found |= names
        for secret in ANJUKE_MOBILES + ANJUKE_NAMES + OTHER_NAMES:
            assert secret not in clean_text, (path.name, secret)
    assert set(ANJUKE_NAMES + OTHER_NAMES) <= found  # found where they stand, not by luck


def test_the_places_tried_where_a_word_or_label_stands_find_what_finditer_finds():
    """``_names`` tries the five class-attribute places only at a ``class="`` whose value
    holds one of their words, and the label place only where a label stands; on real
    pages and on awkward written ones (a class holding two places, a place inside
    another's match, names of every place) it finds exactly the names every place's own
    ``finditer`` finds."""
    written = (
        '<b class="agent-name">王五</b><i class="jjr-icon">经</i>赵六 <span class="listjjr">'
        '凌枫林</span><b class="broker-name x" title="钱七">x</b><b class="agent-name" '
        'data-x=\'class="contact-name">孙八\'>李九</b><p class="answer-broker">周十:</p>'
        '<a class="AGENT">吴一</a><b class="x-contactname">郑二</b>'
        # labels: one inside another's match, twice in a row, in brackets, at the very end
        "经纪人：管家：冯三 房东房东:陈四 置业顾问） ： 褚五业主:卫六 联系人：蒋七经纪人：沈八"
    )
    pages = [path.read_bytes() for path in sorted(real_dir("lianjia").parent.rglob("*.html"))]
    found: set[str] = set()
    for body in [written.encode(), *pages]:
        _, text = privacy._decoded(body, None)
        folded = privacy._folded(text)
        expected = {m.group(1) for p in privacy._NAME_PLACES for m in p.finditer(folded)}
        assert privacy._names(text, folded) == expected
        found |= expected
    assert {"王五", "赵六", "凌枫林", "钱七", "孙八", "周十", "郑二"} <= found
    assert {"管家", "陈四", "褚五业主", "沈八"} <= found
    # inside the match before (经纪人：管家, 褚五业主), as finditer skips them
    assert not {"冯三", "卫六"} & found
    for place in privacy._CLASS_PLACES:  # each starts where _CLASS_WITH_A_WORD looks
        assert place.pattern.startswith('class="[^"]*')
    assert privacy._LABEL_PLACE.pattern.startswith("(?:" + "|".join(privacy._LABELS) + ")")


def test_a_scrape_stores_what_reparse_gives_from_the_archive(tmp_path):
    """The crawl parses the bytes the archive kept (handed over in memory, not read back):
    a page with a phone number and an agent's name in its cards gives the same listings
    from the scrape as from a reparse of the archive, and the number is in neither."""
    from tests.cli_helpers import rows, scrape_local
    from tests.lianjia_site import LocalSite, paginate

    db_path = tmp_path / "rw.db"
    cards = [
        Card("HZ2351274900001", "丽晶国际 13812345678", "3000"),
        Card("HZ2351274900002", "钱江新城", "3500", brand="经纪人：王一凡"),
        Card("HZ2351274900003", "钱江新城", "4000"),
    ]
    with LocalSite() as site:
        site.set_pages(paginate(cards))
        result = scrape_local(site.url, "2026-11-20", db_path=db_path)
        assert result.exit_code == 0, result.output
    scraped = listings(db_path)
    assert len(scraped) == 3
    communities = {row["community"] for row in scraped}
    assert "丽晶国际 [phone removed]" in communities, communities
    assert rows(db_path, "SELECT count(*) FROM pages WHERE kind = 'list'") == [(1,)]
    assert_absent(db_path, ["13812345678", "王一凡"])
    with sqlite3.connect(db_path) as conn:
        conn.execute("DELETE FROM listing_observations")
        conn.execute("DELETE FROM listings")
    result = run_cli("reparse", "--source", "lianjia", db_path=db_path)
    assert result.exit_code == 0, result.output
    assert listings(db_path) == scraped


def test_the_utf8_path_scrubs_as_the_decoded_path():
    """A UTF-8 body is looked at on its lower-cased bytes first and decoded only when a
    number or a name is there; it must give what the general path (decode, lower-cased
    copy, names, numbers) gives, on real pages and on pages holding every awkward case."""
    pages = [path.read_bytes() for path in sorted(real_dir("lianjia").parent.rglob("*.html"))]
    written = [
        "电话 13812345678 EXT 12 4008580543 ext. 9 转 8 (0571)8765 4321",
        "4008580543 EXT 12",
        "<b class='x'>X13812345678</b> id=13812345678 ＋８６１３８１２３４５６７８",
        '<b CLASS="Broker-Name">王五</b> AGENT_NAME="赵六" 经纪人：凌枫林 凌枫林丹',
        "İ13812345678 uſer_name=钱七",  # a character the copy translates: the general path
        "nothing to remove here, 中文也没有",
    ]
    checked = 0
    for body in [*pages, *(text.encode() for text in written)]:
        fast = privacy._scrub_utf8(body)
        if fast is not None:
            assert fast == privacy._scrub_decoded(body, None)
            checked += fast != body
    assert checked >= 6  # pages where something was removed went through the UTF-8 path
    assert privacy._scrub_utf8("İ13812345678".encode()) is None
    assert privacy._scrub_utf8("经纪人：王五".encode("gb18030")) is None


def _chars_of(char_class: str) -> list[str]:
    """Every character a one-character pattern of db.privacy matches."""
    one = re.compile(char_class)
    return [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and one.fullmatch(chr(c))]


def test_the_phone_skeleton_finds_every_number_the_phone_pattern_finds():
    """``_may_hold_phone`` says no only where ``_PHONE`` finds nothing: on numbers of every
    form with every separator and hiding character, in any surroundings, and on random
    strings of the characters numbers are made of."""
    import random

    seps = ["", *_chars_of(privacy._SEP[:-1])]  # the class without its "?"
    hides = _chars_of(privacy._HIDE)
    assert {" ", "\u3000", "\xa0", "\x85", "-", "．", "·"} <= set(seps) and "×" in hides
    digits = "0123456789"
    rng = random.Random(19)

    def d(n: int) -> str:
        return "".join(rng.choice(digits) for _ in range(n))

    def numbers() -> list[str]:
        s = [rng.choice(seps) for _ in range(3)]
        mobile = f"1{rng.choice('3456789')}{d(1)}{s[0]}"
        mobile += "".join(rng.choice([*digits, *hides]) for _ in range(4)) + s[1] + d(4)
        ext = rng.choice(["", " 转 12", ",3", "-45", "ext.6", "EXT 7", " ext 123456"])
        return [
            mobile,
            rng.choice(["+", "＋", ""]) + f"86{s[2]}" + mobile,
            f"{rng.choice('48')}00{s[0]}{d(3)}{s[1]}{d(4)}{ext}",
            f"{rng.choice(['(', '（', ''])}0{d(rng.choice([2, 3]))}{rng.choice(['', ')', '）'])}"
            f"{s[0]}{rng.choice('23456789')}{d(rng.choice([2, 3]))}{s[1]}{d(4)}",
        ]

    around = ["", " ", "电话", ">", '"', "：", "tel:", "\u3000", "*", "+", "(", "x", "9", "a", "/"]
    found = refused = 0
    for _ in range(3000):
        for number in numbers():
            text = rng.choice(around) + number + rng.choice(around)
            if privacy._PHONE.search(text.lower()):
                found += 1
                assert privacy._may_hold_phone(text.encode()), text
                assert not privacy._holds_nothing_to_remove(text.encode()), text
    alphabet = [
        *digits * 6,
        *"0148" * 4,
        *seps[1:40],
        *hides,
        "１",
        "８",
        "a",
        "x",
        "转",
        "中",
        "(",
        "+",
        "）",
    ]
    for _ in range(60000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(8, 30)))
        if privacy._PHONE.search(text.lower()):
            found += 1
            assert privacy._may_hold_phone(text.encode()), text
            assert not privacy._holds_nothing_to_remove(text.encode()), text
        elif not privacy._may_hold_phone(text.encode()):
            refused += 1
            # The proof on the bytes is the skeleton: it refuses the same strings.
            assert privacy._holds_nothing_to_remove(text.encode()) or any(
                c in text for c in "×＊０１２３４５６７８９"
            ), text
    assert found > 8000 and refused > 20000  # both ways tried, not one


def test_the_phone_skeleton_spares_the_phone_pattern_on_real_pages_without_numbers():
    """What the skeleton is for: a real list page without a phone number is found to hold
    none without running the phone pattern; a page with one is left to the pattern."""
    for name in (
        "beike_zufang_list_sz_2020-03.html",
        "beike_zufang_list_hz_2019-09_localized.html",
    ):
        body = real_path(f"lianjia/{name}").read_bytes()
        assert privacy._PHONE.search(body.lower().decode()) is None
        assert not privacy._may_hold_phone(body), name
    for text in OBFUSCATED:
        assert privacy._may_hold_phone(f"<p>电话：{text}</p>".encode()), text


def test_the_whitespace_of_the_proof_is_what_str_patterns_call_whitespace():
    assert set(privacy._WHITESPACE) == set(_chars_of(r"\s"))


def test_the_proof_says_utf8_exactly_where_python_decodes():
    """``_NOT_UTF8`` matches a body exactly where Python's strict UTF-8 decoder fails: on
    every sequence of up to three bytes drawn from the boundaries of RFC 3629's ranges, on
    random strings of those bytes and of valid characters, and on the real pages."""
    import itertools
    import random

    database = privacy._UTF8_PROOF

    def flagged(data: bytes) -> bool:
        hits: list[int] = []
        database.scan(data, match_event_handler=lambda *hit: hits.append(1))
        return bool(hits)

    def decodes(data: bytes) -> bool:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    edges = sorted(
        {0x00, 0x0A, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2}
        | {0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF}
    )
    checked = invalid = 0
    for n in (1, 2, 3):
        for combo in itertools.product(edges, repeat=n):
            data = bytes(combo)
            assert flagged(data) != decodes(data), data
            checked += 1
            invalid += not decodes(data)
    rng = random.Random(3629)
    pieces = [bytes([b]) for b in edges] + [c.encode() for c in "aé中😀\n\u3000０"]
    for _ in range(40000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        assert flagged(data) != decodes(data), data
        invalid += not decodes(data)
    for path in sorted(real_dir("lianjia").parent.rglob("*.html")):
        body = path.read_bytes()
        assert flagged(body) != decodes(body), path.name
    assert checked > 18000 and invalid > 20000


def _name_places(rng, name: str | None = None) -> list[str]:
    """A name in each place of ``_NAME_PLACES``, in random letter case and spacing."""

    def case(text: str) -> str:
        return "".join(c.upper() if rng.random() < 0.3 else c for c in text)

    def ws() -> str:
        return "".join(rng.choice(["", " ", "\n", "\u3000", "\xa0", "\t"]) for _ in range(2))

    name = name if name is not None else rng.choice(OTHER_NAMES + ANJUKE_NAMES + ["欧阳·娜娜"])
    word = rng.choice(["broker", "agent", "jjr", "contact", "keeper", "linkman"])
    who = rng.choice(["agent", "broker", "contact", "user", "real", "true", "owner"])
    quote = rng.choice(["", '"', "'", "&quot;"])
    return [
        case(f'<b class="x {word}-name y" data-a="1">') + ws() + name,
        case(f'<b class="{rng.choice(["broker", "agent", "jjr", "contact"])}_name" title="')
        + name
        + '">',
        case('<span class="listjjr">') + ws() + name,
        case(f'<i class="{rng.choice(["jjr", "broker"])}-icon">') + "经</i>" + ws() + name,
        case('<p class="answer-broker">') + ws() + name + ":",
        case(
            f'<a href="//dianpu.{rng.choice(["ke", "lianjia"])}.com/1000000{rng.randint(0, 9)}"'
            ' target="_blank">'
        )
        + ws()
        + name,
        case(f"{who}{rng.choice(['_', ''])}name{quote}")
        + ws()
        + rng.choice("=:")
        + ws()
        + case(quote)
        + name,
        case("broker")
        + rng.choice(["", '"', "'"])
        + ws()
        + ":"
        + ws()
        + '{"id": 7, '
        + case('"name"')
        + ws()
        + ":"
        + ws()
        + '"'
        + name
        + '"}',
        rng.choice(privacy._LABELS)
        + ws()
        + rng.choice(["", ")", "）"])
        + ws()
        + rng.choice(":：")
        + ws()
        + name,
    ]


def test_the_proof_finds_every_name_the_places_find():
    """``_holds_nothing_to_remove`` never says so of a body where a place of
    ``_NAME_PLACES`` finds a name: each place written with a name, in mixed case and
    spacing, inside random surroundings of page-like text; and where it does say so, the
    general path leaves the body as it is."""
    import random

    rng = random.Random(20)
    around = ["", "<div>", " ", "中文", 'class="a">', "1380", "name", "agent", "&quot;", "\u3000"]
    names_found = [0] * len(privacy._NAME_PLACES)
    said_nothing = 0
    for _ in range(2000):
        for index, place in enumerate(_name_places(rng)):
            text = "".join(rng.choice(around) for _ in range(2)) + place + rng.choice(around)
            body = text.encode()
            if privacy._names(text, privacy._folded(text)):
                names_found[index] += 1
                assert not privacy._holds_nothing_to_remove(body), text
        # The same places holding no name: where the proof says so, nothing is removed.
        for place in _name_places(rng, rng.choice(["", "x", "&nbsp;", "12", "中"])):
            text = "".join(rng.choice(around[:4]) for _ in range(2)) + place
            if privacy._holds_nothing_to_remove(text.encode()):
                said_nothing += 1
                assert privacy._scrub_decoded(text.encode(), None) == text.encode(), text
    assert min(names_found) > 1000, names_found  # every place found its name, often
    assert said_nothing > 1000  # and the proof said "nothing" often enough to be checked
    for text in [
        "nothing to remove here, 中文也没有",
        "<b class='agent-phone'>经纪人将为您服务</b>",
    ]:
        assert privacy._holds_nothing_to_remove(text.encode()), text


def test_the_proof_spares_the_scrub_on_real_list_pages_and_changes_no_page():
    """What the proof is for: a real list page that holds nothing to remove is returned
    without the scrub's passes; every real page comes out of the scrub as the general
    path makes it."""
    for name in (
        "lianjia/beike_zufang_list_sz_2020-03.html",
        "lianjia/beike_zufang_list_hz_2019-09_localized.html",
    ):
        assert privacy._holds_nothing_to_remove(real_path(name).read_bytes()), name
    for path in sorted(real_dir("lianjia").parent.rglob("*.html")):
        body = path.read_bytes()
        assert privacy.scrub_body(body) == privacy._scrub_decoded(body, None), path.name


def test_the_proof_serves_threads_at_once():
    """Hyperscan's scratch space serves one scan at a time: each thread has its own, so
    scrubs in several threads at once (the scheduler's jobs) neither fail nor mix."""
    from concurrent.futures import ThreadPoolExecutor

    clean = real_path("lianjia/beike_zufang_list_sz_2020-03.html").read_bytes()
    named = '<b class="agent-name">王五</b> 13812345678'.encode()
    bodies = [clean, named] * 200
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(privacy.scrub_body, bodies))
    assert results[0::2] == [clean] * 200
    assert set(results[1::2]) == {b'<b class="agent-name">[name removed]</b> [phone removed]'}
