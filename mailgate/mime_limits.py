"""How deep and how many: the MIME structure of raw bytes, measured before it is parsed.

The standard library's parser recurses once per nested part: a message nested 500 levels
deep cost 16 s and ended in RecursionError (issue 17), and a few megabytes of empty parts
build a tree of hundreds of thousands of objects. This scan reads only header blocks and
boundary lines, in one pass without recursion, and refuses a structure over the limits
([gateway] max_mime_depth, max_mime_parts) before any tree is built, so such mail is
quarantined with its reason in milliseconds (and `quarantine retry` after raising a limit
parses it as usual).

It follows the parser's rules where they decide the shape: a part's body ends at any
enclosing multipart's boundary, and a message/rfc822 part's body is a message of its own.
"""

from __future__ import annotations

import re

DEFAULT_MAX_DEPTH = 50
DEFAULT_MAX_PARTS = 1000

_HEADER_LINE = re.compile(rb"From |[!-9;-~]*:|[ \t]")  # email.feedparser's headerRE
_CONTENT_TYPE = re.compile(rb"^content-type[ \t]*:[ \t]*([!-~]+?/[!-~]+?)[ \t]*(?:;|\r?$)(.*)$", re.I | re.M)
_BOUNDARY = re.compile(rb"""boundary[ \t]*=[ \t]*(?:"([^"]*)"|([^;\s]+))""", re.I)
_DELIMITER = re.compile(rb"^--([^\r\n]*)", re.M)
_UNFOLD = re.compile(rb"\r?\n[ \t]+")


class MimeLimitExceeded(ValueError):
    """Too deep or too many parts to parse: the message is quarantined with this reason."""


def _header_block(raw: bytes, start: int) -> tuple[bytes, int]:
    """The header block starting at `start` (unfolded) and where its body begins. As the
    parser reads it: header lines until an empty line or a line that is no header (the
    body then begins with that line)."""
    pos, n = start, len(raw)
    while pos < n:
        end = raw.find(b"\n", pos)
        end = n if end < 0 else end + 1
        line = raw[pos:end]
        if line in (b"\r\n", b"\n"):
            return _UNFOLD.sub(b" ", raw[start:pos]), end
        if not _HEADER_LINE.match(line):
            break
        pos = end
    return _UNFOLD.sub(b" ", raw[start:pos]), pos


def _content_type(head: bytes) -> tuple[bytes, bytes | None]:
    """(type/subtype lower-cased, multipart boundary or None)."""
    m = _CONTENT_TYPE.search(head)
    if m is None:
        return b"text/plain", None
    ctype = m.group(1).lower()
    if not ctype.startswith(b"multipart/"):
        return ctype, None
    b = _BOUNDARY.search(m.group(2))
    boundary = (b.group(1) if b.group(1) is not None else b.group(2)).rstrip() if b else b""
    return ctype, boundary or None


def check_structure(raw: bytes, max_depth: int = DEFAULT_MAX_DEPTH, max_parts: int = DEFAULT_MAX_PARTS) -> None:
    """Raise MimeLimitExceeded when the MIME structure is nested deeper than max_depth or
    has more than max_parts parts."""
    stack: list[bytes | None] = []  # open entities: a multipart's boundary, None for message/rfc822
    pos = _open_part(raw, 0, stack, max_depth)  # the message itself is the first "part"
    parts = 0
    while True:
        pos = _next_part(raw, pos, stack)
        if pos < 0:
            return
        parts += 1
        if parts > max_parts:
            raise MimeLimitExceeded(f"MIME message with more than {max_parts} parts (over gateway.max_mime_parts)")
        pos = _open_part(raw, pos, stack, max_depth)


def _open_part(raw: bytes, pos: int, stack: list[bytes | None], max_depth: int) -> int:
    """Read the headers of the part starting at pos (and of the messages nested in it,
    message/rfc822 in message/rfc822 ...), pushing what it opens. Returns where its body
    begins."""
    while True:
        head, pos = _header_block(raw, pos)
        ctype, boundary = _content_type(head)
        if boundary is not None:
            stack.append(boundary)
        elif ctype in (b"message/rfc822", b"message/global"):
            stack.append(None)
        else:
            return pos
        if len(stack) > max_depth:
            raise MimeLimitExceeded(f"MIME structure nested more than {max_depth} levels deep "
                                    f"(over gateway.max_mime_depth)")
        if boundary is not None:
            return pos  # its preamble, then its parts


def _next_part(raw: bytes, pos: int, stack: list[bytes | None]) -> int:
    """Skip to the next part of any open multipart: where its headers begin, or -1 at the
    end. A closing delimiter closes its multipart (and everything opened inside it)."""
    if not any(b is not None for b in stack):
        return -1
    for m in _DELIMITER.finditer(raw, pos):
        line = m.group(1).rstrip()
        closing = line.endswith(b"--")
        for i in range(len(stack) - 1, -1, -1):
            b = stack[i]
            if b is None:
                continue
            if line == b or (closing and line[:-2] == b):
                del stack[i + 1:]
                if closing:
                    stack.pop()
                    break  # the enclosing multipart goes on: look for its next delimiter
                end = raw.find(b"\n", m.end())
                return len(raw) if end < 0 else end + 1
        if not any(b is not None for b in stack):
            return -1
    return -1
