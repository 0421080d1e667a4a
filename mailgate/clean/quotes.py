"""Split a body into what the author wrote and the trailing quoted history.

Nothing is dropped: every line ends up in the visible part or in the quoted part. A body is
a list of lines with a flag per line: quoted ("> " in plain text, a quote container in HTML,
see `html_quotes`) or the author's. The rule (docs/clean-text.md, "answer-keeps-quote"):

- only the *trailing* history goes to `quoted`: the last quoted block with its attribution
  ("On … wrote:") when nothing of the author's follows it, or everything from an Outlook-style
  header block / "-----Original Message-----" banner / complete attribution down;
- a quoted block the author answers below (bottom-posting, inline answers) stays visible
  with the answer, attribution included, because it is part of what the author says.
"""

from __future__ import annotations

import re

from .headers_i18n import Splitter, find_splitter, is_separator
from .signature import has_author_text, is_mobile_footer

QUOTED = 1  # the flag of a "> " line (HTML containers carry their own, all non-zero)
_RE_QUOTED = re.compile(r"^\s*>")
_RE_PIPE = re.compile(r"^\s*\|")

# A hard-wrapped quote line whose tail lost its "> " prefix ("> ... Nullam pharetra d" followed
# by "ignissim odio?"). Such a tail is part of the quote, not an interleaved answer.
_WRAP_MIN_LEN = 50


def prefix_flags(lines: list[str]) -> list[int]:
    """Flags of a plain-text body: "> " lines are quoted, and so are lost wrap tails."""
    flags = [QUOTED if _RE_QUOTED.match(line) else 0 for line in lines]
    for i in range(1, len(lines)):
        if not flags[i] and flags[i - 1] and _RE_QUOTED.match(lines[i - 1]) and _is_wrap_tail(lines, i):
            flags[i] = QUOTED
    return flags


def _is_wrap_tail(lines: list[str], i: int) -> bool:
    prev, line = lines[i - 1], lines[i].strip()
    return len(prev.strip()) >= _WRAP_MIN_LEN and bool(line) and (line[0].islower() or line[0] in "\"'”»)")


def join_lines(lines: list[str]) -> str:
    text = "\n".join(lines)
    text = re.sub(r"\n[ \t]*(?:\n[ \t]*){2,}", "\n\n", text)  # no piles of blank lines
    return text.strip("\n")


def squeeze(lines: list[str], flags: list[int]) -> tuple[list[str], list[int]]:
    """At most one blank line in a row and none at either end, flags kept in step."""
    out_l: list[str] = []
    out_f: list[int] = []
    for line, flag in zip(lines, flags, strict=True):
        if not line.strip() and (not out_l or not out_l[-1].strip()):
            continue
        out_l.append(line)
        out_f.append(flag)
    while out_l and not out_l[-1].strip():
        out_l.pop()
        out_f.pop()
    return out_l, out_f


def _next_text(lines: list[str], start: int) -> int | None:
    return next((j for j in range(start, len(lines)) if lines[j].strip()), None)


def _with_separator(lines: list[str], start: int) -> int:
    """Include a "______" / "-----" rule sitting just above an attribution."""
    j = start
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    return j - 1 if j > 0 and is_separator(lines[j - 1]) else start


def _flag_pipe_quote(lines: list[str], flags: list[int], start: int) -> None:
    """"|"-prefixed lines right below an attribution are a quote (some webmails)."""
    j = start
    while j < len(lines) and (not lines[j].strip() or _RE_PIPE.match(lines[j])):
        if lines[j].strip():
            flags[j] = QUOTED
        j += 1


def _scan(lines: list[str], flags: list[int]) -> tuple[int | None, dict[int, int]]:
    """(start of Outlook-style history running to the end or None, {first line of a quoted
    block: start of its attribution})."""
    attributions: dict[int, int] = {}
    i = 0
    while i < len(lines):
        if flags[i] or not lines[i].strip():
            i += 1
            continue
        found: Splitter | None = find_splitter(lines, i)
        if found is None:
            i += 1
            continue
        after = i + found.length
        nxt = _next_text(lines, after)
        if nxt is not None and not flags[nxt] and _RE_PIPE.match(lines[nxt]):
            _flag_pipe_quote(lines, flags, nxt)
        if nxt is None or (not flags[nxt] and found.strong):
            return _with_separator(lines, i), attributions  # the old message, to the end
        if flags[nxt]:
            attributions[nxt] = _with_separator(lines, i)
            i = after
            continue
        i += 1  # a weak attribution-like line with the author's text below: just text
    return None, attributions


def _last_block(flags: list[int], lines: list[str], end: int) -> tuple[int, int] | None:
    """First and last line of the last run of flagged lines before `end` (blank lines
    between flagged lines belong to the run)."""
    last = next((j for j in range(end - 1, -1, -1) if flags[j] and lines[j].strip()), None)
    if last is None:
        return None
    first = last
    j = last - 1
    while j >= 0 and (flags[j] or not lines[j].strip()):
        if flags[j] and lines[j].strip():
            first = j
        j -= 1
    return first, last


def split_quotes(lines: list[str], flags: list[int]) -> tuple[list[int], list[int]]:
    """Indexes of the visible lines and of the quoted lines (`flags` may gain "|" quotes)."""
    history, attributions = _scan(lines, flags)
    limit = len(lines) if history is None else history
    quoted = set(range(limit, len(lines)))
    if _last_block(flags, lines, limit) is None and history is None:
        return _cut_after_mobile_footer(lines)
    # Peel quoted blocks off the end while nothing of the author's follows them.
    while (block := _last_block(flags, lines, limit)) is not None:
        first, last = block
        if has_author_text([lines[j] for j in range(last + 1, limit)]):
            break
        # the attribution's own last line may be flagged (">:" of a wrapped "<address\n>:")
        start = min((a for q, a in attributions.items() if first <= q <= last), default=first)
        while start > 0 and not lines[start - 1].strip():
            start -= 1
        quoted.update(range(start, last + 1))
        limit = start
    return [j for j in range(len(lines)) if j not in quoted], sorted(quoted)


def _cut_after_mobile_footer(lines: list[str]) -> tuple[list[int], list[int]]:
    """"Sent from my phone" followed by more text: mobile clients put the footer between the
    answer and an un-attributed copy of the old message."""
    for i, line in enumerate(lines):
        if i > 0 and is_mobile_footer(line):
            if _next_text(lines, i + 1) is not None:
                return list(range(i + 1)), list(range(i + 1, len(lines)))
            break
    return list(range(len(lines))), []
