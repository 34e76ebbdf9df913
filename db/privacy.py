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

Every body of every page passes through here. Most hold nothing to remove, and one
Hyperscan pass over a UTF-8 body's bytes proves that (:func:`_holds_nothing_to_remove`);
the others go through the patterns, written for Python's regex engine to skip ahead
cheaply (docs/performance.md has the figures): each phone alternative starts with a
literal character, the name patterns are matched case-sensitively against a copy of the
page with its ASCII letters lower-cased rather than with IGNORECASE, the five patterns of a
class attribute are tried only where a class holds one of their words, and on a UTF-8 page
only the parts whose proofs matched run (:func:`_parts_to_run`).
"""

from __future__ import annotations

import codecs
import contextlib
import re
import threading
from collections.abc import Iterator

import hyperscan

PHONE_MARK = "[phone removed]"
NAME_MARK = "[name removed]"

_D = "[0-9０-９]"  # ASCII and full-width digits
_SEP = r"[\s\-‐－—.．·]?"
_HIDE = "[*＊xX×]"
#: A number does not start right after one of these: inside a longer number, an id in a
#: URL or an identifier.
_NOT_AFTER = r"[0-9０-９A-Za-z_/=%.\-]"
_AFTER = r"(?![0-9０-９])"
_MOBILE_AFTER_1 = rf"[3-9３-９]{_D}{_SEP}(?:{_D}|{_HIDE}){{4}}{_SEP}{_D}{{4}}"
_SERVICE_AFTER_4 = rf"00{_SEP}{_D}{{3}}{_SEP}{_D}{{4}}(?:\s*(?:转|,|-|ext\.?)\s*{_D}{{1,6}})?"
_LANDLINE_AFTER_0 = rf"{_D}{{2,3}}[)）]?{_SEP}[2-9２-９]{_D}{{2,3}}{_SEP}{_D}{{4}}"
#: (first character, the rest), in the order the alternatives are tried at one position.
_PHONE_FORMS = [
    # mobiles: 13812345678, 138 1234 5678, 138-1234-5678, +86 138…, 138****5678
    *((lead, rf"86{_SEP}[1１]{_MOBILE_AFTER_1}") for lead in ("+", "＋")),
    ("8", rf"6{_SEP}[1１]{_MOBILE_AFTER_1}"),
    *((one, _MOBILE_AFTER_1) for one in ("1", "１")),
    # 400/800 numbers, with an optional extension (转123)
    *((four, _SERVICE_AFTER_4) for four in ("4", "8", "４", "８")),
    # landlines: 0571-88888888, (0571)8888 8888, 010 12345678
    *((paren, f"[0０]{_LANDLINE_AFTER_0}") for paren in ("(", "（")),
    *((zero, _LANDLINE_AFTER_0) for zero in ("0", "０")),
]
# Each alternative starts with its literal first character, so the engine only tries the
# positions holding one of them; the look-behind comes after that character (it covers
# it and the one before) because a look-behind in front makes the engine try every
# position of the page.
_PHONE = re.compile(
    "(?:"
    + "|".join(f"{re.escape(first)}(?<!{_NOT_AFTER}.){rest}" for first, rest in _PHONE_FORMS)
    + ")"
    + _AFTER
)
#: The skeleton of a phone number, a quick proof that a UTF-8 page holds none, tried before
#: :data:`_PHONE` (which stops at each of a page's thousands of 0, 1, 4 and 8 to try its
#: twelve alternatives) as one of :data:`_PHONE_PROOFS`. The page's bytes are mapped to classes by ``bytes.translate``: the
#: digits a number can start with to ``s``, the others to ``d``, ``*`` to ``h``, the
#: ASCII characters of :data:`_NOT_AFTER` other than digits to ``n`` (``x`` and ``X`` to
#: ``x``, ``.`` and ``-`` to ``m``), every other byte to ``B``; the mapped page gets a
#: ``B`` in front. In a page without full-width digits, ``＊`` or ``×`` (those go
#: straight to :data:`_PHONE`), every match of :data:`_PHONE` has its first digit (after
#: ``+``, ``(`` or nothing) as an ``s`` behind a ``B`` or ``h`` (a character not in
#: _NOT_AFTER ends in a byte mapped to one of them), followed by the classes of one of
#: the forms below: each part of a form maps into its part here (a separator is one
#: character of at most 3 bytes, ``)`` or ``）`` too; a hiding character is ``x`` or
#: ``h``), and what follows a number (an extension included) starts with no digit. So
#: where the skeleton finds nothing, :data:`_PHONE` finds nothing. tests/test_privacy.py
#: checks it (:func:`_may_hold_phone`) on generated numbers in every form and on random
#: strings.
_CLASSES = bytearray(b"B" * 256)
for _chars, _class in (
    (b"0148", b"s"),
    (b"235679", b"d"),
    (b"ABCDEFGHIJKLMNOPQRSTUVWYZabcdefghijklmnopqrstuvwyz_/=%", b"n"),
    (b"xX", b"x"),
    (b".-", b"m"),
    (b"*", b"h"),
):
    for _byte in _chars:
        _CLASSES[_byte] = _class[0]
_PHONE_CLASSES = bytes(_CLASSES)
_D_CLASS = "[sd]"
_SEP_CLASS = "[mB]{0,3}"
_MOBILE_CLASS = f"[sd]{_D_CLASS}{_SEP_CLASS}[sdxh]{{4}}{_SEP_CLASS}{_D_CLASS}{{4}}"
_SKELETON_FORMS = (
    _MOBILE_CLASS,  # 1…
    f"d{_SEP_CLASS}s{_MOBILE_CLASS}",  # (+)86 1…
    f"ss{_SEP_CLASS}{_D_CLASS}{{3}}{_SEP_CLASS}{_D_CLASS}{{4}}",  # 400…, 800…
    # (0…)…, 0…: a closing bracket and a separator, 6 bytes at most
    f"{_D_CLASS}{{2,3}}[mB]{{0,6}}[sd]{_D_CLASS}{{2,3}}{_SEP_CLASS}{_D_CLASS}{{4}}",
)
#: Full-width digits and ``＊`` (EF BC 90-99, EF BC 8A); ``×`` (C3 97) is looked for too.
_WIDE_DIGIT_OR_STAR = re.compile(b"\xef\xbc[\x8a\x90-\x99]")


#: Two to four characters, or a name with a middle dot; never the start of a longer word.
_NAME = r"([\u4e00-\u9fff]{2,4}(?:[·•][\u4e00-\u9fff]{1,6})?)(?![\u4e00-\u9fff])"
#: Words after which a person's name stands in a page's text ("经纪人：王五").
_LABELS = ("经纪人", "置业顾问", "联系人", "管家", "房东", "业主")
#: Places a person's name stands, each with the name as group 1. Written in lower case and
#: matched against :func:`_folded` text, which finds what IGNORECASE would find at a
#: fraction of the cost (IGNORECASE stops the engine skipping to a literal start).
_NAME_PLACES = [
    re.compile(p)
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
        # (agent|broker|contact|user|real|true|owner)_?name=…, found from its "name": a
        # match holds no other "name", so it finds the same names, many times faster
        "name(?:"
        + "|".join(
            f"(?<={who}{sep}name)"
            for who in ("agent", "broker", "contact", "user", "real", "true", "owner")
            for sep in ("_", "")
        )
        + r""")(?:&quot;|["'])?\s*[=:]\s*(?:&quot;|["'])?"""
        + _NAME,
        r"""broker["']?\s*:\s*\{[^{}]{0,200}?\bname["']?\s*:\s*["']""" + _NAME,
        # a label in the text
        "(?:" + "|".join(_LABELS) + r")\s*[)）]?\s*[:：]\s*" + _NAME,
    )
]
#: The characters IGNORECASE takes for an ASCII letter that lower-casing ASCII alone does
#: not turn into it (str.lower would make U+0130 two characters).
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _folded(text: str, body: bytes | None = None) -> str:
    """``text`` with its ASCII letters lower-cased (and the four characters above made
    the letter IGNORECASE takes them for): a lower-case pattern of ASCII letters matches
    it exactly where the same pattern under IGNORECASE matches ``text``, at the same
    offsets (tests/test_privacy.py checks every character). Lower-casing the UTF-8 bytes
    does it at a fraction of ``str.lower``'s cost, which looks every character up.
    ``body``: the bytes ``text`` was decoded from as UTF-8 (undecodable bytes kept as
    surrogates), when the caller has them: no need to encode the text again."""
    if any(char in text for char in "\u0130\u0131\u017f\u212a"):
        text, body = text.translate(_FOLD), None
    if body is not None:
        return body.lower().decode("utf-8", "surrogateescape")
    return text.encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")


#: The first five places are in a class attribute: a match starts at a ``class="`` whose
#: value holds one of these words. One pass finds those (rarely any on a page), and the
#: five patterns are tried there only, instead of each trying all of a page's classes.
_CLASS_PLACES = _NAME_PLACES[:5]
_CLASS_WITH_A_WORD = re.compile(r'class="[^"]*?(?:broker|agent|jjr|contact|keeper|linkman)')


# -- the proof that a UTF-8 body holds nothing to remove: one Hyperscan pass -------------
#
# Most bodies hold no number and no name, and the scrub above makes about ten passes over
# a page to find that out (1.2-1.6 ms on a Beike list page, the largest cost rentwatch adds
# to a page; docs/performance.md). Hyperscan (Intel's multi-pattern regex engine, the one
# Suricata and Snort scan traffic with) looks for all of the patterns below in one pass over
# the bytes (0.1-0.2 ms). Each is a superset, written on the UTF-8 bytes, of what one part of
# the scrub finds: where none of them matches, the scrub would return the body unchanged,
# so it is returned at once; where one matches, the scrub runs as before and decides.

#: The characters ``\s`` matches in a ``str`` pattern (tests/test_privacy.py checks the list
#: against every code point).
_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _utf8_of(text: str) -> bytes:
    """A bytes pattern matching ``text``'s UTF-8 encoding, byte by byte."""
    return b"".join(b"\\x%02x" % byte for byte in text.encode())


def _any_of(chars: str) -> bytes:
    """A bytes pattern matching the UTF-8 encoding of any one of ``chars``."""
    return b"(?:" + b"|".join(_utf8_of(char) for char in chars) + b")"


def _bytes_class(data: bytes) -> bytes:
    return b"[" + b"".join(b"\\x%02x" % byte for byte in sorted(set(data))) + b"]"


#: A run of whitespace, as a run of any bytes of whitespace characters: a class rather
#: than the characters' alternation, which Hyperscan builds four times slower.
_SPACES = _bytes_class(_WHITESPACE.encode()) + b"*"
#: The first bytes of a character in U+4E00-U+9FFF, where every name starts (_NAME).
_CJK = rb"(?:\xe4[\xb8-\xbf]|[\xe5-\xe9])"
_QUOTE = rb"""(?:&quot;|["'])"""
#: One pattern a place of :data:`_NAME_PLACES` (the same order, class places 1-2 in one),
#: matched without regard to ASCII case as the places are on the lower-cased copy. Each
#: keeps the place's words and drops what only narrows it: the ``class="`` in front, a
#: look-behind, ``\b``; a name is its first character; a repeat counted in characters is
#: counted in bytes, four a character.


def _proof(pattern: bytes) -> bytes:
    """``pattern`` with ``{S}`` a run of whitespace, ``{Q}`` a quote, ``{N}`` a name's start."""
    return pattern.replace(b"{S}", _SPACES).replace(b"{Q}", _QUOTE).replace(b"{N}", _CJK)


_LABEL_PROOF = b"(?:" + b"|".join(_utf8_of(label) for label in _LABELS) + b")"
_NAME_PROOFS = [
    _proof(rb'(?:broker|agent|jjr|contact|keeper|linkman)[^"]*name[^"]*"[^>]*(?:>{S}|title="){N}'),
    _proof(rb'listjjr[^"]*"[^>]*>{S}{N}'),
    _proof(rb'(?:jjr|broker)[^"]*"[^>]*>[^<]{0,32}</i>{S}{N}'),
    _proof(rb'answer-broker[^"]*"[^>]*>{S}{N}'),
    _proof(rb'dianpu\.[a-z]+\.com/[0-9\x80-\xff]+"[^>]*>{S}{N}'),
    _proof(rb"(?:agent|broker|contact|user|real|true|owner)_?name{Q}?{S}[=:]{S}{Q}?{N}"),
    # [^{}]{0,200} as an unbounded repeat: a bound of 800 bytes takes Hyperscan 0.2 s to build
    _proof(rb"""broker["']?{S}:{S}\{[^{}]*name["']?{S}:{S}["']{N}"""),
    _proof(
        _LABEL_PROOF + b"{S}(?:\\)|" + _utf8_of("）") + b")?{S}(?::|" + _utf8_of("：") + b"){S}{N}"
    ),
]


def _skeleton_class(letter: str) -> bytes:
    """The bytes :data:`_PHONE_CLASSES` maps to ``letter``, as a bytes pattern."""
    return _bytes_class(bytes(b for b in range(256) if _PHONE_CLASSES[b] == ord(letter)))


def _on_bytes(form: str) -> bytes:
    """A form of :data:`_SKELETON_FORMS` over the bytes themselves: each class letter
    becomes the bytes mapped to it (``[sd]`` becomes ``(?:[…]|[…])``)."""
    out = []
    in_set = first = False
    for char in form:
        if char == "[":
            in_set, first = True, True
            out.append(b"(?:")
        elif char == "]":
            in_set = False
            out.append(b")")
        elif char in "sdhxmB":
            out.append((b"" if first or not in_set else b"|") + _skeleton_class(char))
            first = False
        else:
            out.append(char.encode())
    return b"".join(out)


#: The skeleton (an ``s`` behind a ``B`` or ``h``, or at the start of the body, then one of
#: :data:`_SKELETON_FORMS`, then no digit) on the bytes themselves, and the characters that
#: send a body to :data:`_PHONE` itself: what :func:`_may_hold_phone` looks for.
_PHONE_PROOFS = [
    b"(?:^|"
    + _skeleton_class("B")
    + b"|"
    + _skeleton_class("h")
    + b")"
    + _skeleton_class("s")
    + b"(?:"
    + b"|".join(_on_bytes(form) for form in _SKELETON_FORMS)
    + b")(?:[^0-9]|$)",
    _WIDE_DIGIT_OR_STAR.pattern,
    _utf8_of("×"),
]
#: The characters :func:`_scrub_utf8` leaves to the general path (_FOLD).
_FOLD_PROOF = _any_of("\u0130\u0131\u017f\u212a")
#: Bytes that are not UTF-8 (RFC 3629): a byte no UTF-8 holds, a continuation byte where
#: none may stand, a lead byte without its continuation bytes, an overlong form, a
#: surrogate, a code point over U+10FFFF. Valid UTF-8 matches none of them
#: (tests/test_privacy.py checks it against Python's decoder). One pattern: as fifteen,
#: Hyperscan takes 0.09 s to build them instead of 0.003 s.
_NOT_UTF8 = b"|".join(
    [
        rb"[\xc0\xc1\xf5-\xff]",
        rb"(?:^|[\x00-\x7f])[\x80-\xbf]",
        rb"[\xc2-\xdf](?:[^\x80-\xbf]|$)",
        rb"[\xc2-\xdf][\x80-\xbf][\x80-\xbf]",
        rb"\xe0(?:[^\xa0-\xbf]|$)",
        rb"\xed(?:[^\x80-\x9f]|$)",
        rb"[\xe1-\xec\xee\xef](?:[^\x80-\xbf]|$)",
        rb"[\xe0-\xef][\x80-\xbf](?:[^\x80-\xbf]|$)",
        rb"[\xe0-\xef][\x80-\xbf]{2}[\x80-\xbf]",
        rb"\xf0(?:[^\x90-\xbf]|$)",
        rb"\xf4(?:[^\x80-\x8f]|$)",
        rb"[\xf1-\xf3](?:[^\x80-\xbf]|$)",
        rb"[\xf0-\xf4][\x80-\xbf](?:[^\x80-\xbf]|$)",
        rb"[\xf0-\xf4][\x80-\xbf]{2}(?:[^\x80-\xbf]|$)",
        rb"[\xf0-\xf4][\x80-\xbf]{3}[\x80-\xbf]",
    ]
)


def _database(proofs: list[tuple[bytes, int]]) -> hyperscan.Database:
    database = hyperscan.Database()
    database.compile(
        expressions=[p for p, _ in proofs],
        ids=list(range(len(proofs))),
        elements=len(proofs),
        flags=[flag | hyperscan.HS_FLAG_SINGLEMATCH for _, flag in proofs],
    )
    return database


#: Which part of the scrub each proof stands for, by its id in :data:`_PROOFS`: where no
#: proof of a part matches, that part finds nothing in the body (if it is UTF-8).
_NAMES, _PHONES, _FOLDS = "names", "phones", "folds"
_PART_OF = [_NAMES] * len(_NAME_PROOFS) + [_PHONES] * len(_PHONE_PROOFS) + [_FOLDS]
#: Two databases, each scanned in turn: as one, Hyperscan takes 0.3 s to build them
#: (0.06 s apart), and the scans cost about the same.
_PROOFS = _database(
    [(p, hyperscan.HS_FLAG_CASELESS) for p in _NAME_PROOFS]
    + [(p, 0) for p in [*_PHONE_PROOFS, _FOLD_PROOF]]
)
_UTF8_PROOF = _database([(_NOT_UTF8, 0)])
#: Hyperscan's scratch space serves one scan at a time: one per thread and database.
_SCRATCH = threading.local()


def _scratches() -> tuple[hyperscan.Scratch, hyperscan.Scratch]:
    scratches = getattr(_SCRATCH, "scratches", None)
    if scratches is None:
        scratches = _SCRATCH.scratches = (
            hyperscan.Scratch(_PROOFS),
            hyperscan.Scratch(_UTF8_PROOF),
        )
    return scratches


def _stop(*_: object) -> bool:
    return True  # the first match answers the question: stop the scan


def _parts_to_run(body: bytes) -> set[str]:
    """The parts of the scrub whose proofs match ``body`` (:data:`_NAMES`, :data:`_PHONES`,
    :data:`_FOLDS`): one scan, stopped once all three are known to match."""
    parts: set[str] = set()

    def found(proof: int, *_: object) -> bool:
        parts.add(_PART_OF[proof])
        return len(parts) == 3

    with contextlib.suppress(hyperscan.ScanTerminated):
        _PROOFS.scan(body, match_event_handler=found, scratch=_scratches()[0])
    return parts


def _proved_utf8(body: bytes) -> bool:
    try:
        _UTF8_PROOF.scan(body, match_event_handler=_stop, scratch=_scratches()[1])
    except hyperscan.ScanTerminated:
        return False
    return True


def _holds_nothing_to_remove(body: bytes) -> bool:
    """True only if ``body`` is UTF-8 and :func:`_scrub_utf8` would return it unchanged:
    none of the proofs above matches it."""
    return not _parts_to_run(body) and _proved_utf8(body)


def _may_hold_phone(body: bytes) -> bool:
    """False only if :data:`_PHONE` finds no number in ``body`` decoded as UTF-8 (or in its
    lower-cased copy): no phone proof matches (:data:`_SKELETON_FORMS`)."""
    return _PHONES in _parts_to_run(body)


#: The last place starts at one of :data:`_LABELS`, each found by its rarest character
#: on the real pages (index in the label): ``str.find`` of one character is a fast scan,
#: where the regex engine stops at every 房 of a page to try the six labels (0.44 ms).
_LABEL_PLACE = _NAME_PLACES[-1]
_LABEL_FINDERS = [
    (label, label.index(char), char)
    for label, char in zip(_LABELS, ("经", "顾", "系", "管", "东", "主"), strict=True)
]


def _label_starts(folded: str) -> list[int]:
    starts = []
    for label, offset, char in _LABEL_FINDERS:
        at = folded.find(char)
        while at != -1:
            if at >= offset and folded.startswith(label, at - offset):
                starts.append(at - offset)
            at = folded.find(char, at + 1)
    return sorted(starts)


def _matches_from(
    place: re.Pattern[str], folded: str, starts: list[int]
) -> Iterator[re.Match[str]]:
    """``place.finditer(folded)`` when every match of ``place`` starts at one of ``starts``
    (sorted): the leftmost match at or after the end of the one before."""
    end = 0
    for start in starts:
        if start >= end and (found := place.match(folded, start)):
            yield found
            end = found.end()


def _names(text: str, folded: str) -> set[str]:
    """The names the places in :data:`_NAME_PLACES` hold: exactly what each place's
    ``finditer`` over ``folded`` finds (tests/test_privacy.py compares the two)."""
    found: list[re.Match[str]] = []
    starts = [m.start() for m in _CLASS_WITH_A_WORD.finditer(folded)]
    for place in _CLASS_PLACES if starts else ():
        found += _matches_from(place, folded, starts)
    for place in _NAME_PLACES[len(_CLASS_PLACES) : -1]:
        found += place.finditer(folded)
    found += _matches_from(_LABEL_PLACE, folded, _label_starts(folded))
    return {text[m.start(1) : m.end(1)] for m in found}


def scrub_text(text: str) -> str:
    return _scrubbed(text, _folded(text))


def _scrubbed(text: str, folded: str) -> str:
    return _PHONE.sub(PHONE_MARK, _without(_names(text, folded), text))


def _without(names: set[str], text: str) -> str:
    """``text`` with every name replaced, longest first (王一凡 before a 王一 it contains).

    Names are CJK characters (and a middle dot) and the mark has none, so replacing them
    one after another changes nothing outside a run of such characters that holds one:
    only those runs go through the replacements, not the whole page once a name (a 58
    list holds a hundred names, some ending with another's surname)."""
    ordered = sorted(names, key=lambda name: (-len(name), name))  # never the set's order
    if not ordered:
        return text
    out: list[str] = []
    done = 0
    for found in re.finditer("|".join(map(re.escape, ordered)), text):
        if found.start() < done:
            continue
        start = found.start()
        while start > done and _is_name_char(text[start - 1]):
            start -= 1
        end = found.end()
        while end < len(text) and _is_name_char(text[end]):
            end += 1
        run = text[start:end]
        for name in ordered:
            run = run.replace(name, NAME_MARK)
        out += (text[done:start], run)
        done = end
    out.append(text[done:])
    return "".join(out)


def _is_name_char(char: str) -> bool:
    """Whether ``char`` can be part of a name (see _NAME)."""
    return "\u4e00" <= char <= "\u9fff" or char in "·•"


def _decoded(body: bytes, hint: str | None) -> tuple[str, str]:
    """The codec ``body`` is in (the hint, else UTF-8, else GB18030) and its text."""
    for encoding in (hint, "utf-8", "gb18030"):
        if not encoding:
            continue
        try:
            return encoding, body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return "utf-8", body.decode("utf-8", "surrogateescape")


def scrub_body(body: bytes, encoding: str | None = None) -> bytes:
    """``body`` without phone numbers and agents' names; unchanged if it holds none."""
    if encoding is None or _is_utf8(encoding):
        scrubbed = _scrub_utf8(body)
        if scrubbed is not None:
            return scrubbed
    return _scrub_decoded(body, encoding)


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def _scrub_utf8(body: bytes) -> bytes | None:
    """:func:`_scrub_decoded` of a UTF-8 body, or None for a body that is not UTF-8 or
    holds one of the characters :data:`_FOLD` translates.

    Most pages hold no number and no name, and that is found on the lower-cased copy
    alone, from the body's bytes: a name is CJK characters, the same in the copy, and
    every phone number of the page is one in the copy (its letters are x, X and a
    lower-case "ext"), so the page itself is decoded only when one was found.
    """
    parts = _parts_to_run(body)
    if not parts and _proved_utf8(body):
        return body
    if _FOLDS in parts:
        return None
    try:
        folded = body.lower().decode("utf-8")
    except UnicodeDecodeError:
        return None
    names = _names(folded, folded) if _NAMES in parts else set()
    if not names and (_PHONES not in parts or _PHONE.search(folded) is None):
        return body
    text = body.decode("utf-8")
    cleaned = _PHONE.sub(PHONE_MARK, _without(names, text))
    return body if cleaned == text else cleaned.encode("utf-8")


def _scrub_decoded(body: bytes, encoding: str | None) -> bytes:
    codec, text = _decoded(body, encoding)
    utf8 = body if _is_utf8(codec) else None
    cleaned = _scrubbed(text, _folded(text, utf8))
    if cleaned == text:
        return body
    return cleaned.encode(codec, "surrogateescape")
