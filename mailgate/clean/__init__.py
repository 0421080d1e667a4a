"""The "clean text" stage: what the author wrote, apart from quotes and signatures.

`clean_text()` never loses text: whatever is not `visible` is in `quoted` or `signature`, so a
ticket view can always offer "show the rest". The policy is docs/clean-text.md. Order of the
steps, and why:

1. reply markers (ours and other helpdesks'): the history below them is never the author's;
2. a forward keeps the forwarded message visible (forwards.py), header block as one line;
3. otherwise the trailing quoted history goes (quotes.py), quotes answered below stay;
4. the signature block goes, a short closing stays (signature.py);
5. the visible text is never empty when the mail has text: the last cut that emptied it is
   undone.
"""

from __future__ import annotations

from collections.abc import Sequence

from mailgate.core.message import CleanText

from .forwards import split_forward
from .html import html_lines, html_to_text, sanitize_html
from .markers import REPLY_MARKER, cut_reply_marker
from .quotes import join_lines, prefix_flags, split_quotes, squeeze
from .signature import split_signature

__all__ = ["CleanText", "REPLY_MARKER", "body_lines", "clean_text", "html_to_text", "sanitize_html"]

# Invisible characters that would leave a stray "empty" line: zero-width space, word joiner,
# BOM, Mongolian vowel separator, and Gmail's U+1427 tracking mark.
_INVISIBLE = str.maketrans(dict.fromkeys("\u200b\u2060\ufeff\u180e\u1427"))


def body_lines(plain: str | None, html: str | None) -> tuple[list[str], list[int]]:
    """The body as lines with quote flags. The plain part wins when it has text (it is what
    the author's client wrote as text); an HTML-only message is rendered with its quote
    containers flagged, because they mark quotes more reliably than the flattened text."""
    if plain and plain.strip():
        text = plain.replace("\r\n", "\n").replace("\r", "\n").translate(_INVISIBLE)
        lines = [line.rstrip() for line in text.split("\n")]
        return lines, prefix_flags(lines)
    if html and html.strip():
        lines, flags = html_lines(html)
        return [line.translate(_INVISIBLE).rstrip() for line in lines], flags
    return [], []


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip("\n") for p in parts if p.strip())


def clean_text(
    plain: str | None, html: str | None = None, *, disclaimers: Sequence[str] = (),
    subject: str = "",
) -> CleanText:
    """Split a message body into visible text, quoted history and signature. `subject` (the
    mail's) lets a forward without a banner (Outlook's) be recognised by its "FW:" prefix."""
    lines, flags = body_lines(plain, html)
    if not any(line.strip() for line in lines):
        return CleanText("", "", "")
    lines, flags, marker_quoted = cut_reply_marker(lines, flags)
    history = join_lines(marker_quoted)
    forward = split_forward(lines, flags, subject)
    if forward is not None:
        note, sig = split_signature(join_lines(forward.note), disclaimers)
        visible = _join(note, forward.compact, join_lines(forward.message))
        return CleanText(visible, _join(join_lines(forward.header), history), sig)

    shown, hidden = split_quotes(lines, flags)
    if not any(lines[j].strip() for j in shown):  # nothing but a quote: it is what was sent
        shown, hidden = list(range(len(lines))), []
    vis_lines, vis_flags = squeeze([lines[j] for j in shown], [flags[j] for j in shown])
    text = "\n".join(vis_lines)
    # a quote kept with the answer below it never holds the start of the signature
    floor = max((k + 1 for k, f in enumerate(vis_flags) if f), default=0)
    body, sig = split_signature(text, disclaimers, floor=floor)
    if not body.strip():
        # only a signature above the history (a forward without a banner, most often): the
        # history is what the author sends; with no history, the signature is the text
        if hidden:
            return CleanText(join_lines(lines), history, "")
        body, sig = text, ""
    quoted = _join(join_lines([lines[j] for j in hidden]), history)
    return CleanText(body.rstrip(), quoted, sig)
