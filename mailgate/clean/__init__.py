"""The "clean text" stage: what the author wrote, apart from quotes and signatures.

`clean_text()` never loses text: whatever is not `visible` is in `quoted` or `signature`, so a
ticket view can always offer "show the rest". Order of the cuts, and why:

1. our own reply marker (outgoing templates put it above the quoted ticket history),
2. quoted history (attributions in many languages, "> " lines, Outlook header blocks),
3. signature, mobile footer and configured disclaimers, on what is left.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailgate.core.message import CleanText

from .html import html_to_text, sanitize_html, split_html
from .quotes import REPLY_MARKER, cut_reply_marker, split_quotes
from .signature import split_signature

__all__ = ["CleanText", "REPLY_MARKER", "clean_text", "html_to_text", "sanitize_html"]


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _join(*parts: str) -> str:
    return "\n\n".join(p for p in parts if p.strip())


def clean_text(
    plain: str | None, html: str | None = None, *, disclaimers: Sequence[str] = ()
) -> CleanText:
    """Split a message body into visible text, quoted history and signature.

    The plain part wins when it has text (it is what the author's client wrote as text); an
    HTML-only (or empty-plain) message goes through talon's HTML quote cutting first, because
    the HTML containers (gmail_quote, divRplyFwdMsg ...) mark quotes more reliably than the
    text they flatten into.
    """
    html_quoted = ""
    if plain and plain.strip():
        text = _normalise(plain)
    elif html and html.strip():
        reply, html_quoted = split_html(html)
        text = _normalise(reply)
        html_quoted = _normalise(html_quoted)
    else:
        return CleanText("", "", "")

    text, marker_quoted = cut_reply_marker(text)
    visible, quoted = split_quotes(text)
    body, signature = split_signature(visible, disclaimers)
    return CleanText(
        visible=body.rstrip(),
        quoted=_join(quoted, marker_quoted, html_quoted).strip("\n"),
        signature=signature.strip("\n"),
    )
