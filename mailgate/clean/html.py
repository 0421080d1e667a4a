"""HTML bodies: readable text (with the lines of quote containers flagged), and sanitising.

`html_lines` renders an HTML body the way `html_to_text` does and says for every line
whether it sits in a quote, forward or history container (`html_quotes` marks them). The
decision what goes to `quoted` is then the same one as for plain text (`quotes.py`).
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import nh3
from lxml import etree

from .html_quotes import END, MARK, mark_quotes
from .quotes import squeeze

_BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr ul".split()
)
_SKIP_TAGS = frozenset("head script style title noscript template object iframe svg".split())
_RE_SPACES = re.compile(r"[ \t\r\n\f\v\u200b]+")
# Spaces inside <pre> are protected from the line stripping below.
_PRE_SPACE = "\x01"
# Private-use characters that carry a container's mark through the text: OPEN + mark, CLOSE;
# and the start and end of a <blockquote>, whose lines read "> " in text (as html2text, lynx
# and every mail client's plain-text view write them), so a quote kept with the answer below
# it still looks quoted, and a command line in it is never read as the author's.
_OPEN, _CLOSE, _BQ_OPEN, _BQ_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_RE_MARKS = re.compile(f"{_OPEN}[0-9]|{_CLOSE}|{_BQ_OPEN}|{_BQ_CLOSE}")

_RE_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")

# Flags of `html_lines`, one per line: 0 = the author's text, else the container's mark.
TEXT = 0


def _parse(html: str) -> Any:
    # lxml refuses a str that still carries its XML encoding declaration (Hotmail sends one)
    html = _RE_XML_DECL.sub("", html, count=1)
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _ws(text: str, pre: bool) -> str:
    return text.replace(" ", _PRE_SPACE) if pre else _RE_SPACES.sub(" ", text)


def _link(node: Any, out: list[str]) -> None:
    href = (node.get("href") or "").strip()
    label = node.text_content().strip()
    if href and not href.startswith(("#", "cid:", "javascript:")):
        target = href[7:] if href.lower().startswith("mailto:") else href
        if target and target not in label:
            out.append(f" ({target})")


def _text_of(node: Any, out: list[str], pre: bool = False) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.rsplit("}", 1)[-1].lower()
    if tag in _SKIP_TAGS or node.tag is etree.Comment or node.tag is etree.ProcessingInstruction:
        if node.tail:
            out.append(_ws(node.tail, pre))
        return
    mark = node.get(MARK) if tag else None
    if mark:
        # END: from here to the end of the message, so the container is never closed.
        out.append(f"\n{_OPEN}{mark}")
    block = tag in _BLOCK_TAGS
    if tag == "blockquote":
        out.append(f"\n{_BQ_OPEN}")
    if block:
        out.append("\n")
    if tag == "br":
        out.append("\n")
    elif tag == "li":
        out.append("- ")
    elif tag in ("td", "th"):
        out.append(" ")
    in_pre = pre or tag == "pre"
    if node.text:
        out.append(_ws(node.text, in_pre))
    for child in node:
        _text_of(child, out, in_pre)
    if tag == "a":
        _link(node, out)
    if tag == "p":
        out.append("\n\n")
    elif block:
        out.append("\n")
    if tag == "blockquote":
        out.append(f"{_BQ_CLOSE}\n")
    if mark and mark != END:
        out.append(f"{_CLOSE}\n")
    if node.tail:
        out.append(_ws(node.tail, pre))


def _flagged_lines(text: str) -> tuple[list[str], list[int]]:
    """Split rendered text into lines and flags, reading the container marks; lines inside
    a blockquote get their "> " prefix."""
    stack: list[int] = []
    depth = 0
    lines, flags = [], []
    for raw in text.split("\n"):
        flag, line_depth = max(stack, default=TEXT), depth
        if _RE_MARKS.search(raw):
            for m in _RE_MARKS.finditer(raw):
                mark = m.group()
                if mark == _CLOSE:
                    if stack:
                        stack.pop()
                elif mark == _BQ_OPEN:
                    depth += 1
                    line_depth = max(line_depth, depth)  # opens come before the line's text
                elif mark == _BQ_CLOSE:
                    depth = max(0, depth - 1)
                else:
                    stack.append(int(mark[1]))
            raw = _RE_MARKS.sub("", raw)
            flag = max(flag, max(stack, default=TEXT))
        line = raw.strip(" ").replace(_PRE_SPACE, " ").rstrip()
        lines.append(f"{'> ' * line_depth}{line}" if line and line_depth else line)
        flags.append(flag)
    return squeeze(lines, flags)


def _render(root: Any) -> tuple[list[str], list[int]]:
    out: list[str] = []
    body = root.find(".//body")
    _text_of(body if body is not None else root, out)
    return _flagged_lines("".join(out).replace("\xa0", " "))


def html_to_text(html: str) -> str:
    """Readable text from HTML: blocks become lines, links stay as "label (url)"."""
    if not html or not html.strip():
        return ""
    root = _parse(html)
    if root is None:
        return ""
    return "\n".join(_render(root)[0])


def html_lines(html: str) -> tuple[list[str], list[int]]:
    """The text of an HTML body as lines, with each line's container flag (TEXT, or the
    mark of the quote / forward / history container it sits in)."""
    root = _parse(html) if html and html.strip() else None
    if root is None:
        return [], []
    mark_quotes(root)
    return _render(root)


def sanitize_html(html: str) -> str:
    """HTML safe to store and show: nh3 (ammonia) whitelist, scripts and styles dropped."""
    return nh3.clean(html or "", link_rel="noopener noreferrer nofollow")
