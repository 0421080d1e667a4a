"""Recognising the lines mail clients put above quoted history, in many languages.

Every client writes its own "attribution" above the quote: Gmail's "On <date>, <who> wrote:",
Outlook's "From: / Sent: / To: / Subject:" block (translated into the user's language),
"-----Original Message-----" banners, bare "<date> <who> <addr>:" lines. The vocabulary is
data (mailgate/clean/data/attribution.toml, compiled by `lexicon`); this module knows the
shapes, and `quotes.py` decides what to do with a match.

A match has a strength. A *strong* one (a header block, a banner, a complete "… wrote:"
line with a date or an address) starts the history even when the old message below it has
lost its "> " prefixes. A *weak* one ("2013/12/15 Bob <bob@example.com>" without a colon,
"On <date>, Bob wrote" without one) only counts when a quote follows, so a sentence such
as "On Monday you wrote that…" never swallows the author's text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .lexicon import attribution, fold

RE_DIGIT = re.compile(r"\d")
RE_HAS_ADDR = re.compile(r"\S@\S")
# "2014-03-20 8:48 GMT+01:00 Name <addr>:" / "30.09.2017, 18.30, "X" <addr>:" — no verb at all,
# so demand an address right before the final colon and a digit somewhere (a date).
RE_ADDR_COLON_END = re.compile(r"(?:<[^<>\s]*@[^<>\s]*>|\([^()\s]*@[^()\s]*\)|\S+@\S+)\s*[:：]\s*$")
# Gmail's "2013/7/20 Name <addr>" and "2016-03-03 17:21 GMT+01:00 Name" (weak: no colon).
RE_GMAIL_DATE_NAME = re.compile(
    r"^\d{4}[/.-]\d{1,2}[/.-]\d{1,2}(?:\s+\d{1,2}:\d{2}(?:\s+GMT[+-]\d{1,2}:\d{2})?)?\s+\S.{0,80}$")
_RE_MARKDOWN_MAILTO = re.compile(r"\[([^\]]*)\]\(mailto:[^)]*\)")
_RE_ANGLE_OPEN = re.compile(r"<\s+")
_RE_ANGLE_CLOSE = re.compile(r"\s+>")
_RE_MAILTO = re.compile(r"\bmailto:", re.I)
# A continuation line of a wrapped attribution may be a lone ">", ">:" or "> wrote:" left
# over from "<address\n> wrote:" (Gmail, Outlook's plain-text rendering).
_RE_CLOSING_ANGLE = re.compile(r"^\s*>\s*(?P<rest>.{0,30})$")
# "20.10.2017 ...", "pe 20. lokakuuta", "tir. 18. apr.", "ср, 30 апр.", "Wednesday, 17 ..."
_RE_DATE_START = re.compile(r"^(?:\d|[^\W\d_]{1,10}\.?,?\s+\d)")
# A line made only of separator characters ("_______", "-----", "=====").
RE_SEPARATOR = re.compile(r"^\s*[-_=*~—–]{3,}\s*$")

_RE_DECORATION = re.compile(r"[-=_*]{2,}")
_BANNER_ENDS = "-=_*:："
_BARE_BANNER_MAX = 40
_KEY_MAX_COLUMN = 40  # a header key's colon is near the start of its line

MAX_ATTRIBUTION_LINES = 5
MAX_ATTRIBUTION_CHARS = 400
HEADER_LOOKAHEAD = 7
_INLINE_KEYS_MIN = 3  # a squashed one-line header block ("Temat: … Nadawca: … Adresat:")


@dataclass(frozen=True)
class Splitter:
    length: int  # lines it spans
    strong: bool  # starts the history even without a quote below it
    kind: str  # "header", "banner" or "wrote"


def is_forward_marker(line: str) -> bool:
    # every banner ends in its decoration or a colon: a cheap test before the big pattern
    end = line.rstrip()[-1:]
    return bool(end) and end in _BANNER_ENDS and bool(attribution().forward.match(fold(line)))


def is_separator(line: str) -> bool:
    return bool(RE_SEPARATOR.match(line))


def header_key_role(line: str) -> str | None:
    """"from", "date", "to", "cc" or "subject" for a header line ("Von: …"), else None."""
    head = line[:_KEY_MAX_COLUMN]
    if ":" not in head and "：" not in head:
        return None
    m = attribution().header_key.match(fold(line))
    return attribution().key_role.get(" ".join(m.group("key").lower().split())) if m else None


def _clean(text: str) -> str:
    # Zoho wraps it in dashes: "---- On <date> <addr> wrote ----"; some plain parts carry
    # HTML entities ("&lt;addr&gt;") or markdown mail links.
    text = fold(text).strip().strip("-").strip()
    if "&" in text:
        text = html.unescape(text)
    text = _RE_MARKDOWN_MAILTO.sub(r"\1", text)
    text = _RE_MAILTO.sub("", text)
    return _RE_ANGLE_OPEN.sub("<", _RE_ANGLE_CLOSE.sub(">", text))


def attribution_strength(text: str) -> bool | None:
    """True (strong) / False (weak) if `text` (one or more lines joined by spaces) is an
    attribution, None if it is not one."""
    a = attribution()
    text = _clean(text)
    if not text or len(text) > MAX_ATTRIBUTION_CHARS or text.startswith(">"):
        return None
    has_digit = bool(RE_DIGIT.search(text))
    has_addr = bool(RE_HAS_ADDR.search(text))
    ends_colon = text.endswith((":", "："))
    if a.verb_at_end.search(text) and (has_digit or has_addr):
        # without its colon only a date and an address make it certain ("On Wed, 14 Nov
        # 2018 08:14 John <john@example.com> wrote"); "On Monday you wrote" stays weak
        return ends_colon or (has_digit and has_addr)
    if ends_colon:
        if a.opener.match(text) and a.verb_anywhere.search(text) and (has_digit or has_addr):
            return True
        if a.intro.match(text) and has_digit:
            return True
        # "Support <addr> schrieb am Do. 16. Mai 2024 um 00:02:" (Gmail de): the verb sits in
        # the middle, so demand both an address and a date.
        if a.verb_anywhere.search(text) and has_addr and has_digit:
            return True
        if RE_ADDR_COLON_END.search(text) and has_digit:
            return True
    if RE_GMAIL_DATE_NAME.match(text):
        return False
    return None


def _looks_like_attribution_start(line: str) -> bool:
    """First line of a wrapped attribution: "On ...", a date, "pe 20. ...", or cut at "<"."""
    line = fold(line).strip()
    a = attribution()
    return bool(a.opener.match(line) or a.intro.match(line) or _RE_DATE_START.match(line)
                or line.endswith(("<", "(")))


def _continuation_ok(line: str) -> bool:
    stripped = line.lstrip()
    if not stripped.startswith(">"):
        return True
    m = _RE_CLOSING_ANGLE.match(line)
    return bool(m) and not m.group("rest").strip(" :：") or bool(
        m and attribution().verb_at_end.search(m.group("rest")))


def _may_end_attribution(line: str) -> bool:
    """A cheap test run before the regular expressions: an attribution ends with a colon,
    with its verb, or is Gmail's "<date> <name>" form starting with a digit."""
    text = fold(line).rstrip().rstrip("-").rstrip()
    return text.endswith((":", "：", ">")) or text[:1].isdigit() or text.lower().endswith(attribution().verbs)


def _attribution_len(lines: list[str], i: int) -> tuple[int, bool]:
    for k in range(1, MAX_ATTRIBUTION_LINES + 1):
        chunk = lines[i : i + k]
        if len(chunk) < k or not chunk[-1].strip():
            return 0, False
        if k > 1 and not _continuation_ok(chunk[-1]):
            return 0, False
        if not _may_end_attribution(chunk[-1]):
            continue
        strength = attribution_strength(" ".join(c.strip() for c in chunk))
        if strength is not None:
            return k, strength
    return 0, False


def _inline_header_keys(line: str) -> set[str]:
    a = attribution()
    return {a.key_role.get(" ".join(m.group("key").lower().split()), "")
            for m in a.header_key_inline.finditer(fold(line))}


def _header_block_len(lines: list[str], i: int) -> int:
    first = header_key_role(lines[i])
    if first is None:
        return 0
    roles = _inline_header_keys(lines[i])
    if len(roles) >= _INLINE_KEYS_MIN and "from" in roles:
        return 1  # Polish webmail squashes the whole block into one line
    roles = {first}
    end = i + 1
    for j in range(i + 1, min(len(lines), i + 1 + HEADER_LOOKAHEAD)):
        role = header_key_role(lines[j])
        if role:
            roles.add(role)
            end = j + 1
        elif not lines[j].strip():
            break
    # From (or Date) first and one more key, or three keys with a From among them.
    if (first in ("from", "date") and len(roles) >= 2) or (len(roles) >= 3 and "from" in roles):
        return end - i
    # A lone "From: Name <addr>" line is still an attribution (several clients write only that).
    if first == "from" and RE_HAS_ADDR.search(lines[i]) and re.match(r"^\s*[*_]?\s*\w+\s*[*_]?\s*[:：]", lines[i]):
        return 1
    return 0


def _is_banner(lines: list[str], i: int) -> bool:
    """"-----Original Message-----" (also with the header glued on: "-Reply message ----- From:
    …"). Undecorated ("Original message") only when a header block follows: alone it is text."""
    line = fold(lines[i]).strip()
    # decorated ("-----Original…"), or short enough to be the bare banner
    if not line or (line[0] not in _BANNER_ENDS and len(line) > _BARE_BANNER_MAX):
        return False
    m = attribution().original_message.match(line)
    if not m:
        return False
    if m.group("rest"):
        return bool(header_key_role(m.group("rest")))
    if _RE_DECORATION.search(line):
        return True
    nxt = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
    return nxt is not None and header_key_role(lines[nxt]) is not None


def find_splitter(lines: list[str], i: int) -> Splitter | None:
    """The quote attribution starting at `lines[i]`, if any.

    A wrapped attribution is only accepted if no later line of it is an attribution on its
    own, so a body line just above "On ... wrote:" is not swallowed into the quote.
    """
    line = lines[i]
    if not line.strip() or line.lstrip().startswith(">"):
        return None
    if _is_banner(lines, i):
        return Splitter(1, True, "banner")
    n = _header_block_len(lines, i)
    if n:
        return Splitter(n, True, "header")
    k, strong = _attribution_len(lines, i)
    if k > 1 and not _looks_like_attribution_start(line):
        for j in range(i + 1, i + k):
            if _attribution_len(lines, j)[0] or _header_block_len(lines, j):
                return None
    return Splitter(k, strong, "wrote") if k else None


def splitter_length(lines: list[str], i: int) -> int:
    """How many lines starting at `lines[i]` form a quote attribution (0 if none)."""
    found = find_splitter(lines, i)
    return found.length if found else 0
