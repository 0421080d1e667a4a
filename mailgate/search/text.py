"""Words as the index sees them, the same for both backends.

A word is a run of letters and digits (Unicode: any script); case and accents are folded
away (NFD, combining marks dropped, lower case), which is what SQLite's `unicode61
remove_diacritics 2` tokenizer does. The PostgreSQL backend indexes the words made here,
and both backends get the query's words from here, so the two agree on what matches.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator

WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
# longer "words" are base64 or hex noise; PostgreSQL refuses lexemes over 2047 bytes
MAX_WORD = 100


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    return [w for w in WORD_RE.findall(fold(text)) if len(w) <= MAX_WORD]


def word_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, folded word) of each word of the original `text`, for highlighting."""
    for m in WORD_RE.finditer(text):
        word = fold(m.group())
        if len(word) <= MAX_WORD:
            yield m.start(), m.end(), word


SNIPPET_WORDS = 24


def snippet(text: str, wanted: set[str], size: int = SNIPPET_WORDS) -> str:
    """About `size` words of `text` around its first wanted word, HTML-escaped, each wanted
    word in <mark>. Empty when no wanted word is in the text."""
    spans = list(word_spans(text))
    hits = [i for i, (_, _, w) in enumerate(spans) if w in wanted]
    if not hits:
        return ""
    first = max(0, hits[0] - size // 3)
    last = min(len(spans), first + size)
    start = 0 if first == 0 else spans[first][0]
    end = len(text) if last == len(spans) else spans[last - 1][1]
    out, pos = [], start
    for s, e, w in spans[first:last]:
        if w in wanted:
            out.append(html.escape(text[pos:s]))
            out.append(f"<mark>{html.escape(text[s:e])}</mark>")
            pos = e
    out.append(html.escape(text[pos:end]))
    body = " ".join("".join(out).split())
    return ("… " if first > 0 else "") + body + (" …" if last < len(spans) else "")
