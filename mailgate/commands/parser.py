"""Find commands in a message: `name: value` lines at the top of the visible text and a
Roundup-style suffix `[status=resolved; owner=alice]` at the end of the subject.

Only the visible text is read (the clean stage has already moved quoted history and the
signature out of it), so a command quoted from an earlier mail never runs again. The block
ends at the first line that is not a known command: `Note: ...` is ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from mailgate.core.changes import CommandLine

_LINE_RE = re.compile(r"^\s*([A-Za-z][A-Za-z_-]*)\s*:\s*(.*?)\s*$")
_BARE_RE = re.compile(r"^\s*([A-Za-z]+)\s*$")
# commands without a required value may stand alone on their line ("help")
BARE = frozenset({"help", "comment"})
_SUFFIX_RE = re.compile(r"\s*\[([^\[\]]*=[^\[\]]*)\]\s*$")


@dataclass(frozen=True)
class Found:
    lines: tuple[CommandLine, ...]
    body: str  # the visible text without the command lines
    subject: str  # the subject without the command suffix


def parse_body(text: str, known: Collection[str]) -> tuple[list[CommandLine], str]:
    lines = text.split("\n")
    found: list[CommandLine] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = _LINE_RE.match(line)
        if m and m.group(1).lower() in known:
            found.append(CommandLine(m.group(1).lower(), m.group(2), line.strip()))
        elif (bare := _BARE_RE.match(line)) and bare.group(1).lower() in BARE & set(known):
            found.append(CommandLine(bare.group(1).lower(), "", line.strip()))
        else:
            break
        i += 1
    if not found:
        return [], text
    return found, "\n".join(lines[i:]).strip("\n")


def parse_subject(subject: str, known: Collection[str]) -> tuple[list[CommandLine], str]:
    m = _SUFFIX_RE.search(subject or "")
    if not m:
        return [], subject
    found = []
    for item in m.group(1).split(";"):
        name, eq, value = item.partition("=")
        name = name.strip().lower()
        if not eq or name not in known:
            return [], subject  # not ours: "[a=b]" in an ordinary subject stays text
        found.append(CommandLine(name, value.strip(), f"[{item.strip()}]"))
    return found, subject[: m.start()].rstrip()


def find_commands(visible: str, subject: str, known: Collection[str]) -> Found:
    from_subject, clean_subject = parse_subject(subject, known)
    from_body, body = parse_body(visible, known)
    return Found(tuple(from_subject + from_body), body, clean_subject)
