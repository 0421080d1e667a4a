"""HTML bodies: to readable text, quote containers cut, and sanitising for storage.

Quote removal for HTML goes in two steps: talon's `extract_from_html` (knows gmail_quote,
blockquote, Outlook's divRplyFwdMsg / OLK_SRC_BODY_SECTION, <hr> separators, "From:" blocks),
then our own container list for what talon misses (yahoo_quoted, moz-cite-prefix, ...). The
removed part is recovered as text so nothing is lost.
"""

from __future__ import annotations

import difflib
import functools
import re
from typing import Any

import lxml.html
import nh3
from lxml import etree

_BLOCK_TAGS = frozenset(
    "address article aside blockquote center dd div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody thead tfoot tr ul".split()
)
_SKIP_TAGS = frozenset("head script style title noscript template object iframe svg".split())
_RE_SPACES = re.compile(r"[ \t\r\n\f\v\u200b]+")
# Spaces inside <pre> are protected from the line stripping in _tree_to_text.
_PRE_SPACE = "\x01"

# Containers that hold quoted history in clients talon does not cover (or covers only partly).
_QUOTE_XPATH = (
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]",
    "//blockquote[@type='cite']",
    "//div[@id='divRplyFwdMsg']",
    "//div[@id='OLK_SRC_BODY_SECTION']",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]",
    "//div[contains(concat(' ', normalize-space(@class), ' '), ' zmail_extra ')]",
    "//div[@id='appendonsend']",
)
# Containers whose following siblings are part of the quote as well (Outlook puts the header
# div first and the old message after it).
_CUT_FOLLOWING = frozenset({"divRplyFwdMsg", "appendonsend", "moz-cite-prefix"})


@functools.cache
def _talon_quotations() -> Any:
    # Lazy, and without talon's package __init__ (mailgate/clean/talon_modules.py).
    # register_xpath_extensions() is the only part of talon.init() we need (its "mg:" XPath
    # helpers); init() would also load the ML model.
    from mailgate.clean.talon_modules import talon_module

    quotations = talon_module("talon.quotations")

    quotations.register_xpath_extensions()
    return quotations


def _parse(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _ws(text: str, pre: bool) -> str:
    return text.replace(" ", _PRE_SPACE) if pre else _RE_SPACES.sub(" ", text)


def _text_of(node: Any, out: list[str], pre: bool = False) -> None:
    tag = node.tag if isinstance(node.tag, str) else ""
    tag = tag.rsplit("}", 1)[-1].lower()
    if tag in _SKIP_TAGS or node.tag is etree.Comment or node.tag is etree.ProcessingInstruction:
        if node.tail:
            out.append(_ws(node.tail, pre))
        return
    block = tag in _BLOCK_TAGS
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
        href = (node.get("href") or "").strip()
        label = node.text_content().strip()
        if href and not href.startswith(("#", "cid:", "javascript:")):
            target = href[7:] if href.lower().startswith("mailto:") else href
            if target and target not in label:
                out.append(f" ({target})")
    if tag == "p":
        out.append("\n\n")
    elif block:
        out.append("\n")
    if node.tail:
        out.append(_ws(node.tail, pre))


def _tree_to_text(root: Any) -> str:
    out: list[str] = []
    body = root.find(".//body")
    _text_of(body if body is not None else root, out)
    text = "".join(out).replace("\xa0", " ")
    lines = [line.strip(" ").replace(_PRE_SPACE, " ").rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def html_to_text(html: str) -> str:
    """Readable text from HTML: blocks become lines, links stay as "label (url)"."""
    if not html or not html.strip():
        return ""
    root = _parse(html)
    if root is None:
        return ""
    return _tree_to_text(root)


def sanitize_html(html: str) -> str:
    """HTML safe to store and show: nh3 (ammonia) whitelist, scripts and styles dropped."""
    return nh3.clean(html or "", link_rel="noopener noreferrer nofollow")


def _cut_containers(root: Any) -> bool:
    """Remove our own list of quote containers; True if anything was removed."""
    removed = False
    for xpath in _QUOTE_XPATH:
        for node in root.xpath(xpath):
            parent = node.getparent()
            if parent is None:
                continue
            key = node.get("id") or ""
            classes = (node.get("class") or "").split()
            if key in _CUT_FOLLOWING or _CUT_FOLLOWING.intersection(classes):
                for sib in list(node.itersiblings()):
                    parent.remove(sib)
            node.tail = None
            parent.remove(node)
            removed = True
    # A bare <hr> (Outlook/Windows Mail "reply separated by hr") starts the quote, unless
    # nothing would be left above it.
    for hr in root.xpath("//body//hr"):
        parent = hr.getparent()
        if parent is None:
            continue
        for sib in list(hr.itersiblings()):
            parent.remove(sib)
        hr.tail = None
        parent.remove(hr)
        removed = True
        break
    return removed


def _diff_quoted(full: str, reply: str) -> str:
    """Lines of `full` that are not in `reply`, in order: what the HTML cutting removed."""
    a, b = full.split("\n"), reply.split("\n")
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for op, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            out.extend(a[i1:i2])
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def split_html(html: str) -> tuple[str, str]:
    """Return (reply text, quoted text) for an HTML body."""
    full = html_to_text(html)
    reply_html = html
    try:
        reply_html = _talon_quotations().extract_from_html(html)
    except Exception:  # noqa: BLE001 - talon is a heuristic helper; fall back to our own cut
        reply_html = html
    root = _parse(reply_html)
    if root is None:
        return full, ""
    # Work on a copy so a cut that leaves nothing can be undone.
    trial = _parse(lxml.html.tostring(root, encoding="unicode"))
    if trial is not None and _cut_containers(trial) and _tree_to_text(trial).strip():
        root = trial
    reply = _tree_to_text(root)
    if not reply.strip():
        return full, ""
    return reply, _diff_quoted(full, reply)
