"""The simulated market's pages in Lianjia's list markup (written here, not copied)."""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass

from rentwatch.sim.market import Market, SimAd

PER_PAGE = 30
MAX_PAGES = 100


@dataclass(slots=True)
class Card:
    """One list card's facts, as the site writes them (text, not numbers)."""

    house_code: str
    community: str
    rent: str
    area: str = "53"
    layout: str = "2室1厅1卫"
    orientation: str = "南"
    floor: str = "中楼层"
    floors: int = 28
    tenure: str = "整租"
    district: str = "江干"
    district_slug: str = "jianggan"
    subdistrict: str = "九堡"
    subdistrict_slug: str = "jiubao"
    resblock_id: str = "1811000000001"
    brand: str = "链家"
    #: "50" (or "40") marks a promoted card.
    ad_type: str = "0"


def card_html(card: Card) -> str:
    """The card in Lianjia's list markup; the simulator and the tests both write cards here."""
    e = html.escape
    title = f"{card.tenure}·{card.community} {card.layout[:4]} {card.orientation}"
    return f"""
<div class="content__list--item" data-el="listItem" data-house_code="{e(card.house_code)}" data-ad_type="{e(card.ad_type)}">
  <a class="content__list--item--aside" target="_blank" href="/zufang/{e(card.house_code)}.html" title="{e(title)}"></a>
  <div class="content__list--item--main">
    <p class="content__list--item--title twoline"><a target="_blank" href="/zufang/{e(card.house_code)}.html">{e(title)}</a></p>
    <p class="content__list--item--des">
      <a target="_blank" href="/zufang/{card.district_slug}/">{e(card.district)}</a>-<a href="/zufang/{card.subdistrict_slug}/" target="_blank">{e(card.subdistrict)}</a>-<a title="{e(card.community)}" href="/zufang/c{card.resblock_id}/" target="_blank">{e(card.community)}</a>
      <i>/</i> {e(card.area)}㎡ <i>/</i>{e(card.orientation)} <i>/</i> {e(card.layout)}
      <span class="hide"><i>/</i> {e(card.floor)} （{card.floors}层）</span>
    </p>
    <p class="content__list--item--brand oneline"><span class="brand">{e(card.brand)}</span>
      <span class="content__list--item--time oneline">今天维护</span></p>
    <span class="content__list--item-price"><em>{e(card.rent)}</em> 元/月</span>
  </div>
</div>"""


def cards_page(
    cards: list[Card], *, page: int, total_pages: int, total: int, url_pattern: str
) -> bytes:
    """A list page of these cards; ``url_pattern`` is the pager's, e.g. ``/zufang/pg{page}/``.
    Without cards it shows the site's "nothing found" note."""
    if cards:
        body = f'<div class="content__list">{"".join(card_html(c) for c in cards)}</div>'
    else:
        body = '<div class="content__empty1">没有找到相关房源</div>'
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>杭州租房信息_杭州出租房源【杭州链家租房】</title></head><body>
<div class="content w1150" id="content"><div class="content__article">
<p class="content__title">已为您找到 <span class="content__title--hl">{total}</span> 套杭州租房</p>
{body}
<div class="content__pg" data-el="page_navigation" data-url="{url_pattern}" data-totalPage={total_pages} data-curPage={page}></div>
</div></div></body></html>""".encode()


def ad_card(ad: SimAd, market: Market, *, promoted: bool = False) -> Card:
    b = market.building_of(ad)
    return Card(
        house_code=ad.house_code,
        community=ad.spelling,
        rent=f"{ad.rent:g}",
        area=f"{ad.area:g}",
        layout=ad.layout,
        orientation=ad.orientation,
        floor=ad.band,
        floors=b.floors,
        tenure=ad.tenure,
        district=b.district,
        district_slug=b.district_slug,
        subdistrict=b.subdistrict,
        subdistrict_slug=b.subdistrict_slug,
        resblock_id=b.resblock_id,
        brand=ad.card_brand,
        ad_type="50" if promoted else "0",
    )


def list_page(market: Market, ads: list[SimAd], prefix: str, page: int) -> bytes:
    """Page ``page`` of a list of ads: 30 cards, at most 100 pages, as the real site."""
    total_pages = min(MAX_PAGES, max(1, math.ceil(len(ads) / PER_PAGE)))
    page = min(max(page, 1), total_pages)
    chunk = ads[(page - 1) * PER_PAGE : page * PER_PAGE]
    cards: list[Card] = []
    if page == 1:
        # Promoted cards head the first page and show up again in their own place.
        cards.extend(ad_card(a, market, promoted=True) for a in ads if a.promoted)
    cards.extend(ad_card(a, market) for a in chunk)
    return cards_page(
        cards,
        page=page,
        total_pages=total_pages,
        total=len(ads),
        url_pattern=f"{prefix}pg{{page}}/",
    )


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
