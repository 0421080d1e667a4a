"""Forwarded messages: the forwarded request stays visible, its header block becomes a line.

A forward into the helpdesk is usually the request itself ("see below"), so the policy
(docs/clean-text.md, "forward-stays") keeps the forwarded message in the visible text. The
banner ("---------- Forwarded message ---------", "Begin forwarded message:") and the header
block under it (From / Date / Subject / To, in any language) go to `quoted`, and one compact
line takes their place: "Forwarded message from Jane <jane@example.com>, Mon, 2 Jun 2025:
Printer broken". The forwarder's own note comes first, also when it was written below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .headers_i18n import find_splitter, header_key_role, is_forward_marker, is_separator
from .lexicon import attribution

FORWARD_LINE = "Forwarded message"
_RE_PREFIX = re.compile(r"^\s*>\s?")
_RE_KEY = re.compile(r"^\s*[*_]?\s*[^:：]{1,30}?\s*[*_]?\s*[:：]\s*[*_]?\s*")
_FORWARD_FLAG = 2  # html_quotes.FORWARD, as a line flag


@dataclass(frozen=True)
class Forward:
    note: list[str]  # the forwarder's own lines (above the banner, then below the message)
    header: list[str]  # the banner and the header block, as written
    compact: str  # the header block in one line
    message: list[str]  # the forwarded message


def _unquote(line: str) -> str:
    return _RE_PREFIX.sub("", line)


def compact_line(header: list[str]) -> str:
    """"Forwarded message from <from>, <date>: <subject>" from a forward's header block."""
    values: dict[str, str] = {}
    for line in header:
        line = _unquote(line)
        role = header_key_role(line)
        if role and role not in values:
            values[role] = " ".join(_RE_KEY.sub("", line, count=1).replace("*", "").split())
    out = FORWARD_LINE
    if values.get("from"):
        out += f" from {values['from']}"
    if values.get("date"):
        out += f", {values['date']}"
    if values.get("subject"):
        out += f": {values['subject']}"
    return out


def _find_banner(lines: list[str], flags: list[int]) -> int | None:
    """The forward banner, if it comes before any reply quote or attribution."""
    # a forward container's banner may carry the "> " of its <blockquote> (Apple Mail)
    banner = next((i for i, line in enumerate(lines) if line.strip() and (
        (flags[i] == 0 and is_forward_marker(line))
        or (flags[i] == _FORWARD_FLAG and is_forward_marker(_unquote(line))))), None)
    if banner is None:
        return None
    for i in range(banner):
        if lines[i].strip() and (flags[i] or find_splitter(lines, i)):
            return None
    return banner


def _header_end(lines: list[str], start: int) -> int:
    """The line after the header block that follows a banner at `start - 1`."""
    end = j = start
    while j < len(lines):
        if header_key_role(_unquote(lines[j])):
            end = j + 1
        elif _unquote(lines[j]).strip():
            break
        j += 1  # Apple Mail's HTML puts a blank line between the header lines
    while end < len(lines) and not _unquote(lines[end]).strip():
        end += 1  # the ">" line under a quoted header block is part of the block
    return end


def _message_end(lines: list[str], flags: list[int], banner: int, header_end: int) -> int:
    """Where the forwarded message ends: with its container (HTML), its "> " block, or at
    the end of the mail."""
    if flags[banner]:
        run = flags[banner]
    else:
        nxt = next((j for j in range(banner + 1, len(lines)) if lines[j].strip()), None)
        if nxt is None or not flags[nxt]:
            return len(lines)
        run = flags[nxt]
    end = header_end
    for j in range(banner + 1, len(lines)):
        if flags[j] == run:
            end = j + 1
        elif lines[j].strip():
            break
    return max(end, header_end)


def _header_without_banner(lines: list[str], flags: list[int]) -> tuple[int, int] | None:
    """(start, end) of the first header block, for a forward whose client writes no banner
    (Outlook): its header block is the forwarded message's, with a "____" rule above it."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if flags[i]:
            return None
        found = find_splitter(lines, i)
        if found is not None:
            if found.kind != "header":
                return None
            start = i - 1 if i and is_separator(lines[i - 1]) else i
            return start, i + found.length
    return None


def split_forward(lines: list[str], flags: list[int], subject: str = "") -> Forward | None:
    """The forward in a body, or None if the body is not a forward (or a reply comes first).
    A subject with a forward prefix ("Fwd:", "WG:") makes a header block without a banner
    a forward's too."""
    banner = _find_banner(lines, flags)
    if banner is None:
        if not subject or not attribution().forward_subject.match(subject):
            return None
        block = _header_without_banner(lines, flags)
        if block is None:
            return None
        start, end = block
        header = lines[start:end]
        return Forward(note=lines[:start], header=header, compact=compact_line(header),
                       message=lines[end:])
    header_end = _header_end(lines, banner + 1)
    end = _message_end(lines, flags, banner, header_end)
    header = lines[banner:header_end]
    return Forward(
        note=lines[:banner] + lines[end:],
        header=header,
        compact=compact_line(header),
        message=lines[header_end:end],
    )
