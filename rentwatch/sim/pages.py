"""The simulated market's pages in Lianjia's list markup (written here, not copied)."""

from __future__ import annotations

import csv
import html
import io
import math

from rentwatch.sim.market import Market, SimAd

PER_PAGE = 30
MAX_PAGES = 100


def card_html(ad: SimAd, market: Market, *, promoted: bool = False) -> str:
    e = html.escape
    b = market.building_of(ad)
    floors = b.floors
    title = f"{ad.tenure}·{ad.spelling} {ad.layout[:4]} {ad.orientation}"
    ad_type = "50" if promoted else "0"
    return f"""
<div class="content__list--item" data-el="listItem" data-house_code="{e(ad.house_code)}" data-ad_type="{ad_type}">
  <a class="content__list--item--aside" target="_blank" href="/zufang/{e(ad.house_code)}.html" title="{e(title)}"></a>
  <div class="content__list--item--main">
    <p class="content__list--item--title twoline"><a target="_blank" href="/zufang/{e(ad.house_code)}.html">{e(title)}</a></p>
    <p class="content__list--item--des">
      <a target="_blank" href="/zufang/{b.district_slug}/">{e(b.district)}</a>-<a href="/zufang/{b.subdistrict_slug}/" target="_blank">{e(b.subdistrict)}</a>-<a title="{e(ad.spelling)}" href="/zufang/c{b.resblock_id}/" target="_blank">{e(ad.spelling)}</a>
      <i>/</i> {ad.area:g}㎡ <i>/</i>{e(ad.orientation)} <i>/</i> {e(ad.layout)}
      <span class="hide"><i>/</i> {e(ad.band)} （{floors}层）</span>
    </p>
    <p class="content__list--item--brand oneline"><span class="brand">{e(ad.agency)}</span>
      <span class="content__list--item--time oneline">今天维护</span></p>
    <span class="content__list--item-price"><em>{ad.rent:g}</em> 元/月</span>
  </div>
</div>"""


def list_page(market: Market, ads: list[SimAd], prefix: str, page: int) -> bytes:
    """Page ``page`` of a list of ads: 30 cards, at most 100 pages, as the real site."""
    total_pages = min(MAX_PAGES, max(1, math.ceil(len(ads) / PER_PAGE)))
    page = min(max(page, 1), total_pages)
    chunk = ads[(page - 1) * PER_PAGE : page * PER_PAGE]
    cards: list[str] = []
    if page == 1:
        # Promoted cards head the first page and show up again in their own place.
        cards.extend(card_html(a, market, promoted=True) for a in ads if a.promoted)
    cards.extend(card_html(a, market) for a in chunk)
    if not ads:
        body = '<div class="content__empty1">没有找到相关房源</div>'
    else:
        body = f'<div class="content__list">{"".join(cards)}</div>'
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>杭州租房信息_杭州出租房源【杭州链家租房】</title></head><body>
<div class="content w1150" id="content"><div class="content__article">
<p class="content__title">已为您找到 <span class="content__title--hl">{len(ads)}</span> 套杭州租房</p>
{body}
<div class="content__pg" data-el="page_navigation" data-url="{prefix}pg{{page}}/" data-totalPage={total_pages} data-curPage={page}></div>
</div></div></body></html>""".encode()


def registry_csv(market: Market) -> str:
    """The registry a user would import: the buildings known to be there (not all of them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["name", "aliases", "city", "district", "total_units", "subdistrict", "site_ids"]
    )
    for b in market.buildings:
        if not b.in_registry:
            continue
        writer.writerow(
            [
                b.name,
                "|".join(b.aliases),
                "hz",
                b.district,
                b.total_units if b.total_units_known else "",
                b.subdistrict,
                f"lianjia:{b.resblock_id}",
            ]
        )
    return out.getvalue()
