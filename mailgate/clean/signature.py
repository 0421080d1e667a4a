"""Split the author's own text into body and signature block.

The policy (docs/clean-text.md): a short closing stays ("closing-stays": "Thanks, Bob",
"Best regards" + a name, "-Andrew", "Thank you!"); a signature block goes to `signature`
("signature-goes": what follows the "-- " delimiter, contact lines after the closing, a
mobile or app footer and its translations, configured disclaimers). The words are data
(mailgate/clean/data/signature.toml, compiled by `lexicon`).

No machine learning: talon's classifier does not load on current scikit-learn, and its
brute-force extractor treats every "Thanks,\\nBob" as a signature, which the policy keeps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .lexicon import fold, signature

_RE_ANGLE_URL = re.compile(r"<[^<>\s]+>|\(https?://[^)\s]+\)|\[[^\]]*\]\([^)\s]+\)")
_MOBILE_MAX_LEN = 60
_MOBILE_MAX_RAW = 200  # with its link ("Get Outlook for iOS<https://aka.ms/…>")
# "-- " is the standard delimiter (RFC 3676); "--", "—" (Mailbox) and "______" (mailing-list
# footers) too.
_RE_DELIMITER = re.compile(r"^\s*(?:--|—|–|_{2,})\s*$")
# The delimiter glued to the end of the last line ("OKAY — " + newline + "Sent from Mailbox").
_RE_GLUED_DELIMITER = re.compile(r"\s+(?:--|—|–)\s*$")
# "-Andrew", "- Jane Doe": a dash sign-off.
_RE_DASH_NAME = re.compile(r"^\s*[-–—]\s?[^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*){0,2}\s*$")
_RE_CONTACT = re.compile(
    r"(?:\+?\d[\d ()./-]{6,}\d)|\S@\S|https?://|www\.|\b(?:tel|phone|mobile|mob|cell|fax|"
    r"skype|linkedin|twitter)\b", re.I)
_RE_URLISH = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")
_RE_POSTSCRIPT = re.compile(r"^\s*p\.?\s?p?\.?\s?s\b", re.I)
_NAME_MAX_WORDS = 4
_NAME_MAX_LEN = 40
_TAIL_MAX_LINES = 10
_TAIL_LINE_MAX_LEN = 72
_CLOSING_LOOKBACK = 8  # non-empty lines from the end in which a closing is looked for
_FOOTER_TAIL_LINES = 3


def is_mobile_footer(line: str) -> bool:
    if not line.strip() or len(line) > _MOBILE_MAX_RAW:
        return False
    stripped = _RE_ANGLE_URL.sub("", fold(line)).strip()
    if not stripped or len(stripped) > _MOBILE_MAX_LEN:
        return False
    if not signature().mobile.match(stripped):
        return False
    # A sentence ("Sent from my desk, is much easier ...") ends with punctuation or has commas.
    return not re.search(r"[,;.!?]\s|[.?]$", stripped)


def is_sign_off(line: str) -> bool:
    """A line that opens a closing: "Thanks,", "Best regards", "Thanks, Bob", "-Andrew"."""
    line = fold(line)
    if signature().sign_off.match(line) or _RE_DASH_NAME.match(line):
        return True
    m = signature().sign_off_name.match(line)
    return bool(m) and all(not w[0].islower() for w in m.group("name").split())


def is_name_line(line: str) -> bool:
    """A short line that can be the author's name under a closing ("Jane Doe", "ADR")."""
    text = fold(line).strip()
    words = text.split()
    return (0 < len(words) <= _NAME_MAX_WORDS and len(text) <= _NAME_MAX_LEN
            and not text.endswith(("?", ":", ";", ",", "!")) and not words[0][0].islower()
            and not (text.endswith(".") and len(words[-1]) > 2)  # a sentence, not "Jane D."
            and not _RE_CONTACT.search(text))


def _closing_line(line: str) -> bool:
    """A further line of a closing: "Thanks and God bless.", "Have a nice day!"."""
    text = fold(line).strip()
    return is_sign_off(text) or (
        len(text.split()) <= 6 and len(text) <= 50 and bool(signature().sign_off_start.match(text)))


def _signature_like(tail: list[str]) -> bool:
    """Lines that can be a signature block: a few short lines (titles, phone, links); a
    postscript is the author's text, never a signature."""
    filled = [t for t in tail if t.strip()]
    return 0 < len(filled) <= _TAIL_MAX_LINES and all(
        len(_RE_URLISH.sub("", t).strip()) <= _TAIL_LINE_MAX_LEN and not _RE_POSTSCRIPT.match(t)
        for t in filled)


def _cut_disclaimers(text: str, disclaimers: Sequence[str]) -> tuple[str, str]:
    """Configured disclaimers: cut from the start of the line holding the match to the end."""
    best = len(text)
    for pattern in disclaimers:
        m = re.search(pattern, text, re.I | re.M | re.S)
        if m:
            best = min(best, text.rfind("\n", 0, m.start()) + 1)
    if best >= len(text):
        return text, ""
    return text[:best].rstrip(), text[best:].strip("\n")


def _cut_mobile(lines: list[str], floor: int) -> int:
    """A mobile footer near the end, followed only by a few short lines."""
    filled = 0
    for i in range(len(lines) - 1, floor - 1, -1):
        filled += bool(lines[i].strip())
        if filled > _FOOTER_TAIL_LINES + 1:
            return -1  # a footer is one of the last few lines
        if is_mobile_footer(lines[i]):
            tail = [t for t in lines[i + 1 :] if t.strip()]
            if len(tail) <= _FOOTER_TAIL_LINES and all(len(t) <= _MOBILE_MAX_LEN for t in tail):
                return i
            return -1
    return -1


def _cut_delimiter(lines: list[str], floor: int) -> int:
    """Index of the first "-- " / "____" line that is not the first line, else -1."""
    for i in range(floor, len(lines)):
        if _RE_DELIMITER.match(lines[i]):
            return i
    return -1


def _after_closing(lines: list[str], floor: int) -> int:
    """Where the signature block after a closing starts (-1: no closing, or nothing after it)."""
    filled = [i for i, line in enumerate(lines) if line.strip() and i >= floor]
    for pos in range(len(filled) - 1, max(0, len(filled) - _CLOSING_LOOKBACK) - 1, -1):
        i = filled[pos]
        if pos == 0 and not any(t.strip() for t in lines[:i]):
            return -1  # the first line of the text is not a closing
        if not is_sign_off(lines[i]):
            continue
        rest = filled[pos + 1 :]
        while rest and _closing_line(lines[rest[0]]):
            rest = rest[1:]
        one_line = bool(_RE_DASH_NAME.match(lines[i]) or signature().sign_off_name.match(lines[i]))
        if rest and not one_line and is_name_line(lines[rest[0]]):
            rest = rest[1:]
        if rest and _signature_like(lines[rest[0] :]):
            return rest[0]
        return -1
    return -1


def _contact_block(lines: list[str], floor: int) -> int:
    """No closing, but a last paragraph "Name / title / phone / mail": the name stays."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    blank = next((j for j in range(len(lines) - 1, -1, -1) if not lines[j].strip() and j >= floor), None)
    if blank is None or not filled or filled[0] > blank:
        return -1
    block = [i for i in filled if i > blank]
    if len(block) < 2 or not is_name_line(lines[block[0]]) or not _signature_like([lines[i] for i in block]):
        return -1
    contacts = sum(1 for i in block[1:] if _RE_CONTACT.search(lines[i]))
    return block[1] if contacts >= 1 else -1


def _split_at(lines: list[str], idx: int) -> tuple[list[str], str]:
    return lines[:idx], "\n".join(lines[idx:]).strip("\n")


def split_signature(text: str, disclaimers: Sequence[str] = (), floor: int = 0) -> tuple[str, str]:
    """Return (body, signature). The signature keeps every removed line, in order. Lines
    before `floor` (quotes kept with the answer below them) never start a signature."""
    parts: list[str] = []
    body, disclaimer = _cut_disclaimers(text, disclaimers)
    if disclaimer:
        parts.append(disclaimer)
    lines = body.split("\n")
    idx = _cut_mobile(lines, floor)
    if idx >= 0:
        lines, sig = _split_at(lines, idx)
        parts.insert(0, sig)
        lines, glued = _take_delimiter(lines)
        if glued:
            parts.insert(0, glued)
    for finder in (_cut_delimiter, _after_closing, _contact_block):
        idx = finder(lines, floor)
        if idx >= 0:
            lines, sig = _split_at(lines, idx)
            parts.insert(0, sig)
    body = "\n".join(lines).rstrip()
    return body, "\n\n".join(p.strip("\n") for p in parts if p.strip())


def _take_delimiter(lines: list[str]) -> tuple[list[str], str]:
    """A delimiter right above a cut footer belongs to it: a "—" line, or "OKAY —"."""
    j = len(lines)
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    if j == 0:
        return lines, ""
    last = lines[j - 1]
    if _RE_DELIMITER.match(last) and j > 1:
        return lines[: j - 1], last.strip()
    m = _RE_GLUED_DELIMITER.search(last)
    if m and last[: m.start()].strip():
        return lines[: j - 1] + [last[: m.start()]], m.group().strip()
    return lines, ""


def has_author_text(lines: list[str]) -> bool:
    """Whether `lines` hold anything of the author's besides a closing and a signature
    block (text below a quote that is only "-- Bob" or "Thanks, Bob" answers nothing)."""
    if not any(t.strip() for t in lines):
        return False
    body, _sig = split_signature("\n".join(lines).strip("\n"))
    rest = [t for t in body.split("\n") if t.strip()]
    if not rest:
        return False
    if len(rest) <= 2 and is_sign_off(rest[0]) and (len(rest) == 1 or is_name_line(rest[1])):
        return False
    return True
