"""What a rule can see of a message: a small, plain snapshot built from the Inbound object,
so conditions never depend on the parser's or the pipeline's internals."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.utils import getaddresses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailgate.core.message import Inbound

_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_RE = re.compile(r"(?i)<\s*(br|/p|/div|/tr|/li|/h\d|/table)\b[^>]*>")
_STYLE_RE = re.compile(r"(?is)<(style|script|head)\b.*?</\1\s*>")


def html_text(markup: str) -> str:
    """Good enough text from HTML for matching (Alertmanager sends HTML only): block ends
    become line breaks so `^Label:` style patterns still work line by line."""
    text = _STYLE_RE.sub("", markup)
    text = _BLOCK_RE.sub("\n", text)
    text = html.unescape(_TAG_RE.sub(" ", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


@dataclass(frozen=True)
class MailView:
    sender: str  # lower-case address
    sender_name: str
    recipients: tuple[str, ...]  # envelope + Delivered-To/X-Original-To/To/Cc, lower-case
    subject: str
    body: str
    headers: tuple[tuple[str, str], ...]
    auto_class: str  # "" for a person's mail

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @classmethod
    def of(cls, msg: Inbound) -> MailView:
        p = msg.parsed
        assert p is not None
        recipients = [r.lower() for r in msg.entry.recipients]
        for header in ("Delivered-To", "X-Original-To", "To", "Cc"):
            recipients += [a.lower() for _, a in getaddresses(p.header_all(header)) if a]
        body = p.text_plain or html_text(p.text_html)
        return cls(sender=p.from_addr.lower(), sender_name=p.from_name, recipients=tuple(dict.fromkeys(recipients)),
                   subject=p.subject, body=body, headers=p.headers, auto_class=msg.auto_class)
