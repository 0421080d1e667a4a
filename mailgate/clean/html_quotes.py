"""Where real mail clients put quoted and forwarded history in HTML.

The containers are marked on the parsed tree (an attribute the renderer in `html.py` reads),
not cut: whether a quote goes to `quoted` is decided on the text, by the same rule as for
plain text (only the trailing history goes; a quote the author answers below stays), so
HTML and plain replies behave alike. Three marks:

- QUOTE: the container holds quoted history (Gmail's gmail_quote, Apple Mail's
  blockquote type="cite", Yahoo's yahoo_quoted, Outlook for Mac's OLK_SRC_BODY_SECTION,
  Zoho, mail.ru and Yandex blockquotes, ProtonMail, Thunderbird);
- FORWARD: a container that starts with a forward banner (Gmail puts forwards in
  gmail_quote as well): the forwarded message is what the author sends us;
- END: everything from here to the end of the message is history (Outlook's divRplyFwdMsg
  and border-top header blocks, Hotmail's <hr> above a "From:" block).
"""

from __future__ import annotations

from typing import Any

from .headers_i18n import header_key_role, is_forward_marker

MARK = "data-mailgate-quote"
QUOTE, FORWARD, END = "1", "2", "3"


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


_QUOTE_XPATH = " | ".join((
    f"//div[{_has_class('gmail_quote')}]",
    f"//blockquote[{_has_class('gmail_quote')}]",
    "//blockquote",
    f"//div[{_has_class('yahoo_quoted')}]",
    "//div[@id='OLK_SRC_BODY_SECTION']",
    f"//div[{_has_class('zmail_extra')}]",
    f"//div[{_has_class('protonmail_quote')}]",
    f"//div[{_has_class('tutanota_quote')}]",
    "//div[@data-marker='__QUOTED_TEXT__']",
    "//div[@id='mail-editor-reference-message-container']",
))
_FORWARD_XPATH = f"//div[{_has_class('moz-forward-container')}]"
_END_XPATH = "//div[@id='divRplyFwdMsg'] | //div[@id='appendonsend']"
_TEXT_PEEK = 300  # characters of a container read to see what it starts with


def _first_text(node: Any) -> str:
    """The first non-blank line of text inside `node`."""
    for text in node.itertext():
        for line in text.split("\n"):
            if line.strip():
                return line.strip()[:_TEXT_PEEK]
    return ""


def _text_after(node: Any) -> str:
    found = node.xpath("following::text()[normalize-space()][1]")
    return str(found[0]).strip()[:_TEXT_PEEK] if found else ""


def _mark(node: Any, value: str) -> None:
    if node.get(MARK, "") < value:  # the strongest mark wins ("3" > "2" > "1")
        node.set(MARK, value)


def _outlook_header_divs(root: Any) -> list[Any]:
    """Outlook's reply header: a div with a solid top border that starts with "From:"."""
    found = []
    for div in root.xpath("//div[contains(@style, 'border-top')]"):
        style = (div.get("style") or "").replace(" ", "").lower()
        if "solid" in style and header_key_role(_first_text(div)) in ("from", "date"):
            found.append(div)
    return found


def mark_quotes(root: Any) -> None:
    """Mark every quote, forward and history container on the tree."""
    for node in root.xpath(_QUOTE_XPATH):
        _mark(node, FORWARD if is_forward_marker(_first_text(node)) else QUOTE)
    for node in root.xpath(_FORWARD_XPATH):
        _mark(node, FORWARD)
    for node in root.xpath(_END_XPATH) + _outlook_header_divs(root):
        _mark(node, END)
    for hr in root.xpath("//body//hr"):
        if header_key_role(_text_after(hr)) in ("from", "date"):
            _mark(hr, END)
            break
