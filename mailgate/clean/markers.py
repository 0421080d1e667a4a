"""Reply markers: "##- Please type your reply above this line -##" and other helpdesks' kind.

Our outgoing templates put REPLY_MARKER above the quoted ticket history; other helpdesks and
apps write their own ("-- REPLY ABOVE THIS LINE --", data/signature.toml [reply_markers]).
Everything from the marker down is history, with the attribution right above it, even when
a client glued all of it onto one line ("Hello. On 01/12/13, Tristan <t@x> wrote: -- REPLY
ABOVE THIS LINE -- or visit …").
"""

from __future__ import annotations

import re

from .headers_i18n import attribution_strength, splitter_length
from .lexicon import signature

REPLY_MARKER = "##- Please type your reply above this line -##"
# Where an attribution may start inside a line: the line's start or after a sentence.
_RE_SENTENCE_START = re.compile(r"(?:^|(?<=[.!?])\s+)(?=\S)")


def _find(lines: list[str]) -> tuple[int, int] | None:
    marker = signature().reply_marker
    for i, line in enumerate(lines):
        m = marker.search(line)
        if m:
            return i, m.start()
    return None


def _inline_attribution(prefix: str) -> int:
    """Where an attribution ending `prefix` starts inside it (-1: none)."""
    head = prefix.rstrip(" -#>")
    for m in _RE_SENTENCE_START.finditer(head):
        if m.start() > 0 and attribution_strength(head[m.start():]) is not None:
            return m.start()
    return -1


def cut_reply_marker(lines: list[str], flags: list[int]) -> tuple[list[str], list[int], list[str]]:
    """(lines above the marker, their flags, the lines from the marker down)."""
    found = _find(lines)
    if found is None:
        return lines, flags, []
    idx, col = found
    before = lines[idx][:col]
    if before.strip(" -#>\t"):
        # marker in the middle of a line: split the line (and an attribution glued before it)
        cut = _inline_attribution(before)
        cut = col if cut < 0 else cut
        head, tail = lines[idx][:cut].rstrip(), lines[idx][cut:].lstrip()
        return lines[:idx] + [head], flags[:idx] + [flags[idx]], [tail, *lines[idx + 1:]]
    start = idx
    # Walk up over blank (or blank quoted) lines to find the "On ... wrote:" of this quote.
    j = start
    while j > 0 and not lines[j - 1].strip(" \t>"):
        j -= 1
    for k in range(max(0, j - 5), j):
        n = splitter_length(lines, k)
        if n and k + n >= j:
            start = k
            break
    return lines[:start], flags[:start], lines[start:]
