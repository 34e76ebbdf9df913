"""What the archive refuses to keep: phone numbers and agents' personal names.

Every body goes through :func:`scrub_body` before it is stored (``db.pages``), and
migration m014 puts the bodies archived before this existed through it. No parser reads a
phone number or a person's name (58 and Lianjia key agents by the agency's name), so a
scrubbed page parses to the same records.

Names are found where the sites put them (a broker/agent name element, ``agent_name=``,
``broker_name:``, "经纪人：", 58's ``listjjr``, Ziroom's 管家) and then removed wherever
else they occur in the page (the same name sits in the page's script data, in titles and
in attributes). Bytes are decoded as UTF-8 or GB18030 with undecodable bytes kept as they
are, so a body with mixed or broken encodings comes back byte for byte except what was
removed.
"""

from __future__ import annotations

import re

PHONE_MARK = "[phone removed]"
NAME_MARK = "[name removed]"

_D = "[0-9０-９]"  # ASCII and full-width digits
_SEP = r"[\s\-‐－—.．·]?"
_HIDE = "[*＊xX×]"
#: Not inside a longer number, an id in a URL or an identifier.
_BEFORE = r"(?<![0-9０-９A-Za-z_/=%.\-])"
_AFTER = r"(?![0-9０-９])"
_PHONE = re.compile(
    _BEFORE
    + "(?:"
    # mobiles: 13812345678, 138 1234 5678, 138-1234-5678, +86 138…, 138****5678
    + rf"(?:(?:\+|＋)?86{_SEP})?[1１][3-9３-９]{_D}{_SEP}(?:{_D}|{_HIDE}){{4}}{_SEP}{_D}{{4}}"
    # 400/800 numbers, with an optional extension (转123)
    + rf"|[48４８]00{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}(?:\s*(?:转|,|-|ext\.?)\s*{_D}{{1,6}})?"
    # landlines: 0571-88888888, (0571)8888 8888, 010 12345678
    + rf"|[(（]?[0０]{_D}{{2,3}}[)）]?{_SEP}[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}"
    + ")"
    + _AFTER
)
#: Two to four characters, or a name with a middle dot; never the start of a longer word.
_NAME = r"([\u4e00-\u9fff]{2,4}(?:[·•][\u4e00-\u9fff]{1,6})?)(?![\u4e00-\u9fff])"
#: Places a person's name stands, each with the name as group 1.
_NAME_PLACES = [
    re.compile(p, re.IGNORECASE)
    for p in (
        # an element of a broker/agent/contact whose class says it holds the name
        r'class="[^"]*(?:broker|agent|jjr|contact|keeper|linkman)[^"]*name[^"]*"[^>]*?>\s*' + _NAME,
        r'class="[^"]*(?:broker|agent|jjr|contact)[^"]*name[^"]*"[^>]*?title="' + _NAME,
        # 58: <span class="listjjr"> 苏娜 </span>; 安居客 lists: <i class="jjr-icon">…</i>姓名
        r'class="[^"]*listjjr[^"]*"[^>]*>\s*' + _NAME,
        r'class="[^"]*(?:jjr|broker)[^"]*"[^>]*>[^<]{0,8}</i>\s*' + _NAME,
        # 安居客 questions answered by a broker: "王一凡:"
        r'class="[^"]*answer-broker[^"]*"[^>]*>\s*' + _NAME,
        # Lianjia/Beike: the agent's shop link, and the agent fields in URLs and data
        r'dianpu\.[a-z]+\.com/\d+"[^>]*>\s*' + _NAME,
        r"""(?:agent|broker|contact|user|real|true|owner)_?name(?:&quot;|["'])?\s*[=:]\s*(?:&quot;|["'])?"""
        + _NAME,
        r"""broker["']?\s*:\s*\{[^{}]{0,200}?\bname["']?\s*:\s*["']""" + _NAME,
        # a label in the text
        r"(?:经纪人|置业顾问|联系人|管家|房东|业主)\s*[)）]?\s*[:：]\s*" + _NAME,
    )
]


def scrub_text(text: str) -> str:
    names = {m.group(1) for place in _NAME_PLACES for m in place.finditer(text)}
    for name in sorted(names, key=len, reverse=True):  # 王一凡 before a 王一 it contains
        text = text.replace(name, NAME_MARK)
    return _PHONE.sub(PHONE_MARK, text)


def _encoding_of(body: bytes, hint: str | None) -> str:
    for encoding in (hint, "utf-8", "gb18030"):
        if not encoding:
            continue
        try:
            body.decode(encoding)
            return encoding
        except (LookupError, UnicodeDecodeError):
            continue
    return "utf-8"


def scrub_body(body: bytes, encoding: str | None = None) -> bytes:
    """``body`` without phone numbers and agents' names; unchanged if it holds none."""
    codec = _encoding_of(body, encoding)
    text = body.decode(codec, "surrogateescape")
    cleaned = scrub_text(text)
    if cleaned == text:
        return body
    return cleaned.encode(codec, "surrogateescape")
