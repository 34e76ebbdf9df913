"""A cheap look at a page's markup before Lexbor parses it.

Lexbor's time grows with the square of the nesting depth (20,000 nested ``div``: 1.2 s;
100,000: 17 s; 200,000: 287 s), so a hostile page of a megabyte can hold a worker for
minutes. Real listing pages nest a few dozen elements deep and hold a few thousand.
:func:`markup_refusal` scans the bytes once with a regular expression, keeps a stack of
open tag names as a tree builder roughly would (void elements never open, a closing tag
closes up to its match, raw-text elements and comments are skipped whole), and refuses
a page deeper than :data:`MAX_DEPTH` or with more than :data:`MAX_ELEMENTS` elements.
Pages with fewer than :data:`QUICK_ELEMENTS` opening tags (every real page seen) are
passed on a count of ``<`` alone, done at C speed: nested that deep, Lexbor still
parses them in well under a second (8,000 nested ``div``: 70 ms).
"""

from __future__ import annotations

import re

#: Deeper than any real page by two orders of magnitude; Lexbor parses this depth in ms.
MAX_DEPTH = 1000
#: Real list pages hold 2,000–10,000 elements.
MAX_ELEMENTS = 200_000
#: Below this many opening tags no scan is needed: even nested all the way, Lexbor is quick.
QUICK_ELEMENTS = 8_000

_TOKEN = re.compile(
    rb"<!--.*?(?:-->|\Z)"
    rb"|<(script|style|textarea|title|xmp|noscript|iframe|noembed|noframes)\b[^>]*>.*?(?:</\1\s*>|\Z)"
    rb"|<(/?)([A-Za-z][A-Za-z0-9:-]*)[^>]*>",
    re.S | re.I,
)
_VOID = frozenset(
    b"area base br col embed hr img input link meta param source track wbr keygen "
    b"basefont bgsound frame".split()
)
#: Elements whose end tag is optional: a new one closes the open one (p, li, …).
_SELF_CLOSING_SIBLINGS = frozenset(b"p li dt dd tr td th option".split())


def markup_refusal(
    body: bytes, *, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS
) -> str | None:
    """Why this page must not reach the parser, in words; None for a page of sane shape."""
    quick = min(QUICK_ELEMENTS, max_elements)
    # Every "<" bounds the opening tags from above: most pages pass on one count.
    lt = body.count(b"<")
    if lt <= quick or lt - body.count(b"</") <= quick:
        return None
    stack: list[bytes] = []
    elements = 0
    for match in _TOKEN.finditer(body):
        name = match.group(3)
        if name is None:
            if match.group(1) is not None:
                elements += 1
            continue
        name = name.lower()
        if match.group(2):  # a closing tag: close up to the nearest match, if any is open
            for i in range(len(stack) - 1, max(len(stack) - 64, -1), -1):
                if stack[i] == name:
                    del stack[i:]
                    break
            continue
        elements += 1
        if elements > max_elements:
            return f"more than {max_elements:,} elements"
        if name in _VOID or match.group(0).endswith(b"/>"):
            continue
        if name in _SELF_CLOSING_SIBLINGS and stack and stack[-1] == name:
            continue
        stack.append(name)
        if len(stack) > max_depth:
            return f"elements nested more than {max_depth:,} deep"
    return None
