"""Split a plain-text body into what the author wrote and the quoted history.

Nothing is dropped: every line ends up either in the visible part or in the quoted part, so a
ticket can always show "the rest of the message". The shape of the decision follows talon's
line-marker idea (empty / quoted / attribution / text) but we keep the quoted lines instead of
discarding them, know many more languages (`headers_i18n`), and keep interleaved answers.
"""

from __future__ import annotations

import re

from .headers_i18n import is_forward_marker, is_separator, splitter_length
from .signature import is_mobile_footer

REPLY_MARKER = "##- Please type your reply above this line -##"
# Matched loosely: quoting clients prefix it with "> " and some re-wrap or re-case it.
_RE_REPLY_MARKER = re.compile(r"please\s+type\s+your\s+reply\s+above\s+this\s+line", re.I)
_RE_QUOTED = re.compile(r"^\s*>")

# A hard-wrapped quote line whose tail lost its "> " prefix ("> ... Nullam pharetra d" followed
# by "ignissim odio?"). Such a tail is part of the quote, not an interleaved answer.
_WRAP_MIN_LEN = 50


def _join(lines: list[str]) -> str:
    text = "\n".join(lines)
    text = re.sub(r"\n[ \t]*(?:\n[ \t]*){2,}", "\n\n", text)  # no piles of blank lines
    return text.strip("\n")


def _is_quoted(line: str) -> bool:
    return bool(_RE_QUOTED.match(line))


def cut_reply_marker(text: str) -> tuple[str, str]:
    """Cut from our own outgoing reply marker (and the attribution right above it)."""
    lines = text.split("\n")
    idx = next((i for i, line in enumerate(lines) if _RE_REPLY_MARKER.search(line)), -1)
    if idx < 0:
        return text, ""
    start = idx
    # Walk up over blank (or blank quoted) lines to find the "On ... wrote:" of this quote.
    j = start
    while j > 0 and not lines[j - 1].strip(" \t>"):
        j -= 1
    for k in range(max(0, j - 3), j):
        n = splitter_length(lines, k)
        if n and k + n >= j:
            start = k
            break
    return _join(lines[:start]), _join(lines[start:])


def _is_wrap_tail(lines: list[str], i: int) -> bool:
    prev = lines[i - 1] if i > 0 else ""
    line = lines[i].strip()
    return (
        _is_quoted(prev)
        and len(prev.strip()) >= _WRAP_MIN_LEN
        and bool(line)
        and (line[0].islower() or line[0] in "\"'”»)")
    )


def _split_prefixed(lines: list[str], first: int) -> tuple[list[str], list[str]]:
    """From `first` on, '>' lines (and their lost wrap tails) are quoted; other text is an
    interleaved or bottom-posted answer and stays visible."""
    visible: list[str] = []
    quoted: list[str] = []
    in_quote = False
    for i in range(first, len(lines)):
        line = lines[i]
        if _is_quoted(line):
            quoted.append(line)
            in_quote = True
        elif not line.strip():
            (quoted if in_quote else visible).append(line)
        elif in_quote and _is_wrap_tail(lines, i):
            quoted.append(line)
        else:
            visible.append(line)
            in_quote = False
    return visible, quoted


def _extend_up_over_separator(lines: list[str], start: int) -> int:
    """Include a "______" / "-----" rule sitting just above an attribution."""
    j = start
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    if j > 0 and is_separator(lines[j - 1]):
        return j - 1
    return start


def split_quotes(text: str) -> tuple[str, str]:
    """Return (visible, quoted) for a plain-text body (newlines already normalised)."""
    lines = text.split("\n")
    splitter_at = -1
    splitter_len = 0
    for i, line in enumerate(lines):
        if not line.strip() or _is_quoted(line):
            continue
        if is_forward_marker(line):
            # A forward: the forwarded message is the content the author sends us.
            return _join(lines), ""
        n = splitter_length(lines, i)
        if n:
            splitter_at, splitter_len = i, n
            break

    if splitter_at >= 0:
        start = _extend_up_over_separator(lines, splitter_at)
        after = splitter_at + splitter_len
        nxt = next((j for j in range(after, len(lines)) if lines[j].strip()), None)
        if nxt is not None and _is_quoted(lines[nxt]):
            # Gmail/Apple/Thunderbird style: attribution followed by "> " lines.
            vis_tail, quoted = _split_prefixed(lines, after)
            visible = lines[:start] + vis_tail
            quoted = lines[start:after] + quoted
            return _join(visible), _join(quoted)
        # Outlook style: attribution followed by the unprefixed old message, to the end.
        return _join(lines[:start]), _join(lines[start:])

    if any(_is_quoted(line) for line in lines):
        visible, quoted = _split_prefixed(lines, 0)
        return _join(visible), _join(quoted)

    # "Sent from my phone" followed by more text: mobile clients put the footer between the
    # answer and an un-attributed copy of the old message.
    for i, line in enumerate(lines):
        if i > 0 and is_mobile_footer(line):
            rest = _join(lines[i + 1 :])
            if rest.strip():
                return _join(lines[: i + 1]), rest
            break
    return _join(lines), ""
