"""58同城 rental lists (``{city}.58.com/chuzu/``), in both markups seen in saved pages.

2020: ``ul.house-list > li.house-cell``, digits drawn with the page's embedded
``fangchan-secret`` font (decoded by :mod:`scrapers.fontdigits`). 2018:
``ul.listUl > li`` with plain digits. A card's id is the number in its
``…/<id>x.shtml`` link; promoted cards (置顶, ``logr="z_…"``) link through a
redirect instead, and their id is read from the ``logr`` attribute, whose fourth
field equals the link id on every card that has both (117 of 117 in the saved pages); their URL is rebuilt from that id.

Agents: only a non-personal ``agent_key`` (a hash of the agency's name) is kept;
broker names and private advertisers' names are never read into a record.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scrapers.errors import BlockedPage, EmptyPage, LayoutChanged, NotAListingPage, NotARentalPage
from scrapers.fontdigits import decode_font_digits
from scrapers.htmltext import (
    agent_key,
    clean_text,
    decode_html,
    find_area_text,
    looks_truncated,
    node_text,
    page_title,
    parse_area,
    parse_int,
    parse_layout,
    parse_range,
    tenure_from_text,
)
from scrapers.record import SHANGHAI, ListingRecord, ListPage
from scrapers.source import Capabilities, Politeness, Source

log = logging.getLogger(__name__)

SOURCE = "58"
ITEMS_2020 = "ul.house-list > li.house-cell"
ITEMS_2018 = "ul.listUl > li"
# Substrings of a <title> that mean a verification page, not content. 58 and 安居客
# share one anti-bot service, so 安居客's "访问验证" page counts as a block here too.
BLOCK_TITLES = ("请输入验证码", "访问验证", "人机验证", "安全验证")
_LINK_ID = re.compile(r"/(\d+)x\.shtml")
# logr="gz_1_<user>_<info id>_sortid:…@postdate:<epoch ms>"
_LOGR_ID = re.compile(r"^[a-z]+_\d+_\d+_(\d+)")
_POSTDATE = re.compile(r"postdate:(\d{12,13})")
_XIAOQU = re.compile(r"/xiaoqu/([^/]+)/")


def _is_58_page(tree: LexborHTMLParser, text: str) -> bool:
    if "58同城" in page_title(tree):
        return True
    return "58cdn.com.cn" in text[:20000] or ".58.com/" in text[:20000]


def _epoch_ms_to_date(ms: str) -> str:
    return datetime.fromtimestamp(int(ms) / 1000, UTC).astimezone(SHANGHAI).date().isoformat()


def _strip_query(href: str) -> str:
    parts = urlsplit(href)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def block_reason_of(tree: LexborHTMLParser) -> str | None:
    title = page_title(tree)
    for marker in BLOCK_TITLES:
        if marker in title:
            return f"verification page (title {title!r})"
    return None


class FiftyEightSource(Source):
    name: ClassVar[str] = SOURCE
    title: ClassVar[str] = "58同城"
    hosts: ClassVar[tuple[str, ...]] = ("{city}.58.com",)
    politeness: ClassVar[Politeness] = Politeness(delay=5.0)
    capabilities: ClassVar[Capabilities] = Capabilities(
        list=True, detail=False, building_query=True, district_query=True
    )
    max_pages: ClassVar[int | None] = 70

    def list_urls(
        self,
        city: str,
        *,
        district: str | None = None,
        building: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        base = (base_url or self.base_url(city)).rstrip("/")
        if building:
            return [f"{base}/xiaoqu/{building}/chuzu/"]
        if district:
            return [f"{base}/{district}/chuzu/"]
        return [f"{base}/chuzu/"]

    @staticmethod
    def page_url(list_url: str, n: int) -> str:
        """Page ``n`` of a list: ``…/chuzu/`` -> ``…/chuzu/pn{n}/`` (page 1 is the list itself)."""
        base = re.sub(r"pn\d+/?$", "", list_url.rstrip("/") + "/")
        return base if n <= 1 else f"{base}pn{n}/"

    def page_kind(self, url: str) -> str:
        return "detail" if _LINK_ID.search(urlsplit(url).path) else "list"

    def markup_block_reason(self, body: bytes, url: str) -> str | None:
        return block_reason_of(LexborHTMLParser(decode_html(body)))

    # -- parsing ------------------------------------------------------------
    def parse_list(self, body: bytes, url: str) -> ListPage:
        if not body or not body.strip():
            raise EmptyPage(f"{SOURCE}: empty body", url)
        text = decode_html(body)
        if looks_truncated(text):
            raise EmptyPage(f"{SOURCE}: body cut short (no closing </body> or </html>)", url)
        text = decode_font_digits(text)
        tree = LexborHTMLParser(text)
        reason = block_reason_of(tree)
        if reason:
            raise BlockedPage(reason, url)
        if self.page_kind(url) == "detail":
            raise NotARentalPage(f"{SOURCE}: a detail page, not a list page", url, "rental detail")

        cards = tree.css(ITEMS_2020)
        markup = "2020"
        if not cards:
            cards = tree.css(ITEMS_2018)
            markup = "2018"
        if not cards:
            if not _is_58_page(tree, text):
                raise NotAListingPage(
                    f"{SOURCE}: not a 58同城 page (title {page_title(tree)!r})", url
                )
            raise LayoutChanged(
                f"{SOURCE}: no listing matched {ITEMS_2020!r} nor {ITEMS_2018!r}",
                url,
                selector=ITEMS_2020,
            )

        records: list[ListingRecord] = []
        skipped = 0
        for card in cards:
            if card.css_first("div.des") is None:
                continue  # the pager and banner rows share the list's <ul>; not listings
            record = self._card(card, url, markup)
            if record is None:
                skipped += 1
            else:
                records.append(record)
        if not records:
            raise LayoutChanged(
                f"{SOURCE}: {len(cards)} cards but none has an id "
                "(no …x.shtml link in 'div.des h2 a', no logr attribute)",
                url,
                selector="div.des h2 a",
            )
        if skipped:
            log.warning("%s: skipped %d card(s) without a listing id on %s", SOURCE, skipped, url)

        current = parse_int(node_text(tree.css_first("div.pager strong")))
        next_link = tree.css_first("div.pager a.next")
        next_urls = []
        if next_link is not None and next_link.attributes.get("href"):
            next_urls.append(urljoin(url, next_link.attributes["href"] or ""))
        return ListPage(records=records, url=url, current_page=current, next_urls=next_urls)

    def _card(self, card: LexborNode, page_url: str, markup: str) -> ListingRecord | None:
        logr = card.attributes.get("logr") or ""
        link = card.css_first("div.des h2 a")
        href = urljoin(page_url, (link.attributes.get("href") or "") if link else "")
        id_m = _LINK_ID.search(urlsplit(href).path) if link else None
        extra: dict[str, object] = {"markup": markup}
        if id_m:
            listing_id, card_url = id_m.group(1), _strip_query(href)
        else:
            logr_m = _LOGR_ID.match(logr)
            if not logr_m:
                return None
            listing_id, card_url = logr_m.group(1), None
            extra["id_from"] = "logr"
        title = node_text(link)
        tenure = tenure_from_text(title)
        if card_url is None:
            # The redirect link carries session tokens; build the plain link instead. On the
            # saved pages every 整租 link is /zufang/<id>x.shtml and every 单间 one /hezu/.
            page = urlsplit(page_url)
            kind = "hezu" if tenure == "shared" else "zufang"
            card_url = f"{page.scheme}://{page.netloc}/{kind}/{listing_id}x.shtml"

        room_text = node_text(card.css_first("p.room"))
        area_text = find_area_text(room_text)
        layout_text = clean_text(room_text.replace(area_text, "")) if area_text else room_text
        rooms, halls, baths = parse_layout(layout_text)
        if "(" in layout_text:  # 单间 cards: "主卧(3室)" is the room and the flat's rooms
            extra["room_kind"] = layout_text.split("(")[0]

        place_links = card.css("p.infor a") or card.css("p.add a")
        subdistrict = node_text(place_links[0]) if place_links else None
        community = community_id = None
        if len(place_links) > 1:
            community = node_text(place_links[1])
            if community.endswith("..."):  # the 2018 list cuts long names
                extra["community_truncated"] = True
                community = community[:-3].rstrip()
            slug = _XIAOQU.search(place_links[1].attributes.get("href") or "")
            community_id = slug.group(1) if slug else None

        money = card.css_first("div.money")
        rent_text = node_text(money) or None
        rent, rent_high = parse_range(node_text(card.css_first("div.money b")))

        agency = card.css_first("div.jjr span.jjr_par_dp")
        if card.css_first("p.geren") is not None:
            extra["advertiser"] = "personal"
        elif card.css_first("div.jjr") is not None:
            extra["advertiser"] = "agent"
        key = None
        if agency is not None:
            key = agent_key(agency.attributes.get("title") or node_text(agency))

        post_m = _POSTDATE.search(logr) or _POSTDATE.search(
            "postdate:" + (card.attributes.get("sortid") or "")
        )
        listed_date = _epoch_ms_to_date(post_m.group(1)) if post_m else None
        if post_m:
            extra["postdate_ms"] = int(post_m.group(1))
        promoted = logr.startswith("z_") or card.css_first("em.dingico") is not None

        return ListingRecord(
            source=SOURCE,
            listing_id=listing_id,
            url=card_url,
            title=title,
            tenure=tenure,
            is_promoted=promoted,
            subdistrict=subdistrict or None,
            community=community or None,
            community_id=community_id,
            rent_text=rent_text,
            rent=rent,
            rent_high=rent_high,
            area_text=area_text,
            area=parse_area(area_text),
            layout_text=layout_text or None,
            rooms=rooms,
            halls=halls,
            baths=baths,
            agent_key=key,
            listed_date=listed_date,
            extra=extra,
        )
