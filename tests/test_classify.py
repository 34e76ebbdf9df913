"""Page classification through the CLI: a block needs a block's evidence, the site's other
pages are "not a rental page", the site's rental list without its list is "layout changed".

The pages below are written for these tests in the shape of the sites' pages of 2020–21;
like those, every Lianjia page loads the captcha SDK in <head> and carries a hidden login
dialog, which is no evidence of a block. The real saved pages are used where they exist.
"""

from __future__ import annotations

import pytest

from tests.cli_helpers import rows, run_cli, scrape_local
from tests.lianjia_site import Card, LocalSite, list_page
from tests.realpages import real_path

DAY = "2026-11-20"

# What real Lianjia pages of 2020–21 load on every page, list or not.
LIANJIA_HEAD = """<meta charset="utf-8">
<script src="https://s1.ljcdn.com/captcha-js-sdk/index.js?_v=20200305"></script>
<script>window.geetest_options = {product: "bind"};</script>"""
LOGIN_DIALOG = (
    '<div id="loginDialog" style="display:none"><form><input name="code" placeholder="请输入验证码">'
    "</form></div>"
)


def lianjia_page(title: str, body: str) -> bytes:
    return (
        f"<!DOCTYPE html><html><head>{LIANJIA_HEAD}<title>{title}</title></head><body>"
        f'<div class="header"><a href="/">链家</a></div>{body}{LOGIN_DIALOG}</body></html>'
    ).encode()


SALE_LIST = lianjia_page(
    "杭州二手房_杭州二手房出售信息【杭州链家】",
    '<div class="leftContent"><h2 class="total fl">共找到<span> 31254 </span>套杭州二手房</h2>'
    '<ul class="sellListContent"><li class="clear"><div class="info clear"><div class="title">'
    '<a href="https://hz.lianjia.com/ershoufang/103123456789.html">南北通透 三房</a></div>'
    '<div class="priceInfo"><div class="totalPrice"><span>300</span>万</div></div></div></li></ul>'
    '<div class="page-box house-lst-page-box" page-data=\'{"totalPage":100,"curPage":1}\'></div>'
    "</div>",
)
XIAOQU_LIST = lianjia_page(
    "杭州小区_杭州小区大全【杭州链家】",
    '<ul class="listContent"><li class="clear xiaoquListItem"><div class="info"><div class="title">'
    '<a href="https://hz.lianjia.com/xiaoqu/1811043464378/">丽晶国际</a></div></div>'
    '<div class="totalPrice"><span>41000</span>元/m2</div></li></ul>',
)
SALE_DETAIL = lianjia_page(
    "丽晶国际 3室2厅 南 北_杭州链家",
    '<div class="overview"><div class="content"><div class="price "><span class="total">300</span>'
    '<span class="unit"><span>万</span></span></div></div></div>'
    '<div class="houseRecord"><span class="info">103123456789</span></div>',
)
# The rental list with its list, pager and total renamed: what a redesign looks like.
RENAMED_LIST = lianjia_page(
    "杭州租房信息_杭州出租房源|房屋出租价格【杭州链家租房】",
    '<div class="content__list2"><div class="content__list2--item" data-house_code="HZ1">'
    '<p class="content__list2--item--title"><a href="/zufang/HZ1.html">整租·丽晶国际 1室1厅</a></p>'
    "</div></div>",
)


def lianjia_list_with_sdk() -> bytes:
    """A good rental list page that also loads the SDK (so that only the cards differ)."""
    page = list_page(
        [Card("HZ2351274914700328960", "丽晶国际", "3000")], page=1, total_pages=1, total=1
    )
    return page.replace(b"<head>", b"<head>" + LIANJIA_HEAD.encode(), 1)


@pytest.fixture
def site():
    with LocalSite() as s:
        yield s


@pytest.mark.parametrize(
    ("body", "kind"),
    [(SALE_LIST, "sale"), (XIAOQU_LIST, "小区"), (SALE_DETAIL, "sale")],
    ids=["sale-list", "xiaoqu-list", "sale-detail"],
)
def test_a_page_of_the_site_of_another_kind_is_not_a_rental_page(site, db_path, body, kind):
    site.set_route("/zufang/", body)
    result = scrape_local(site.url, DAY, db_path=db_path)
    assert result.exit_code == 7, result.output
    assert "not_rental_page" in result.output and kind in result.output
    assert "blocked" not in result.output
    assert rows(db_path, "SELECT status, blocked FROM runs") == [("not_rental_page", 0)]


def test_the_rental_list_without_its_list_is_a_layout_change_not_a_block(site, db_path):
    site.set_route("/zufang/", RENAMED_LIST)
    result = scrape_local(site.url, DAY, db_path=db_path)
    assert result.exit_code == 6, result.output
    assert "layout changed" in result.output and "blocked" not in result.output
    assert rows(db_path, "SELECT status, blocked FROM runs") == [("layout_changed", 0)]


def test_renamed_cards_under_a_known_total_are_a_layout_change(site, db_path):
    page = lianjia_list_with_sdk().replace(b"content__list--item", b"content__list--card")
    site.set_route("/zufang/", page)
    result = scrape_local(site.url, DAY, db_path=db_path)
    assert result.exit_code == 6, result.output
    assert rows(db_path, "SELECT status FROM runs") == [("layout_changed",)]


def test_the_sdk_script_does_not_make_a_good_page_a_block(site, db_path):
    site.set_route("/zufang/", lianjia_list_with_sdk())
    result = scrape_local(site.url, DAY, db_path=db_path)
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT status FROM runs") == [("ok",)]


@pytest.mark.parametrize(
    "page",
    [
        lambda: real_path("anjuke/anjuke_captcha_verify_2024-10.html").read_bytes(),
        lambda: lianjia_page(
            "人机认证", '<div class="container"><p class="tips">请完成验证后继续访问</p></div>'
        ),
    ],
    ids=["anjuke-captcha-real", "lianjia-verification"],
)
def test_a_block_page_is_still_blocked(site, db_path, page):
    site.set_route("/zufang/", page())  # read inside the test: a missing real page skips it
    result = scrape_local(site.url, DAY, db_path=db_path)
    assert result.exit_code == 3, result.output
    assert rows(db_path, "SELECT status, blocked FROM runs") == [("blocked", 1)]


# -- ingest: saved pages -------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["saved/login", "verify_batch", "captcha"])
def test_a_saved_page_path_is_not_judged_as_a_url(tmp_path, db_path, folder):
    path = tmp_path / folder / "zufang.html"
    path.parent.mkdir(parents=True)
    path.write_bytes(
        list_page(
            [Card("HZ2351274914700328960", "丽晶国际", "3000")], page=1, total_pages=1, total=1
        )
    )
    # The page names no host (no URL, relative links): the city is given, as a person would.
    result = run_cli(
        "ingest", path, "--source", "lianjia", "--city", "hz", "--as-of", DAY, db_path=db_path
    )
    assert result.exit_code == 0, result.output
    assert rows(db_path, "SELECT count(*) FROM listings") == [(1,)]


@pytest.mark.parametrize(
    ("source", "page", "reason"),
    [
        ("lianjia", "lianjia/beike_xiaoqu_detail_hz_2019-09_localized.html", "小区"),
        ("anjuke", "anjuke/anjuke_community_list_wh_2024-10.html", "小区"),
        ("anjuke", "anjuke/anjuke_community_detail_wh_2024-10.html", "小区"),
    ],
)
def test_real_pages_of_another_kind_are_not_rental_pages(db_path, source, page, reason):
    result = run_cli("ingest", real_path(page), "--source", source, db_path=db_path)
    assert result.exit_code == 7, result.output
    assert f"rejected: not a rental page: a {reason}" in result.output
    assert rows(db_path, "SELECT status FROM runs") == [("not_rental_page",)]


def test_a_saved_anjuke_sale_list_is_not_a_rental_page(tmp_path, db_path):
    page = tmp_path / "sale.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<link rel="canonical" href="https://hangzhou.anjuke.com/sale/">'
        "<title>杭州二手房_杭州房价_杭州二手房出售-安居客</title></head><body>"
        '<section class="list-left"><div class="list-content"><section class="list">'
        '<div class="property"><a href="https://hangzhou.anjuke.com/prop/view/A123">'
        '<div class="property-content"><h3 class="property-content-title-name">精装三房</h3>'
        '<p class="property-price-total"><span>300</span>万</p></div></a></div></section></div>'
        '<div class="multi-page"><a class="aNxt" href="/sale/p2/">下一页</a></div></section>'
        "</body></html>",
        encoding="utf-8",
    )
    # hangzhou.anjuke.com is no host of a rental source (those are {city}.zu.anjuke.com): the
    # page names no city code, so the city is given.
    result = run_cli("ingest", page, "--source", "anjuke", "--city", "hz", db_path=db_path)
    assert result.exit_code == 7, result.output
    assert "rejected: not a rental page: a sale (二手房) page" in result.output


def test_ingest_gives_one_reason_per_page(tmp_path, db_path):
    other_layout = real_path("58/58_chuzu_list_sz_2020-03_fontsecret.html")
    blocked = real_path("anjuke/anjuke_captcha_verify_2024-10.html")
    result = run_cli("ingest", other_layout, blocked, "--source", "lianjia", db_path=db_path)
    assert result.exit_code == 1, result.output
    lines = {line.split(": ", 1)[0].rsplit("/", 1)[-1]: line for line in result.output.splitlines()}
    list_line = lines["58_chuzu_list_sz_2020-03_fontsecret.html"]
    assert "rejected: not a lianjia listing page" in list_line and "detail page" not in list_line
    block_line = lines["anjuke_captcha_verify_2024-10.html"]
    assert "rejected: blocked: " in block_line and "listing page" not in block_line
