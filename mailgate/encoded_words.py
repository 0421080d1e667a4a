"""RFC 2047 encoded words, decoded with mailgate.charsets.

Our own decoder rather than email.header.decode_header: that one gives up on charset names
Python does not know (ks_c_5601-1987), mixes str and bytes chunks, and cannot join a
multi-byte character that a sender split across two encoded words (common in Japanese
subjects). Adjacent words of the same charset are joined as bytes before decoding.
"""

from __future__ import annotations

import base64
import binascii
import re

from mailgate.charsets import decode_bytes

# the encoded text may not contain spaces, but senders put them there; "?" still ends it
_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([qQbB])\?([^?]*?)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")


def _word_bytes(kind: str, text: str) -> bytes:
    if kind in "bB":
        data = re.sub(r"[^A-Za-z0-9+/]", "", text)
        try:
            return base64.b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            return text.encode("latin-1", "replace")
    raw = text.replace("_", " ").encode("latin-1", "replace")
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)


def quote_words_in_names(value: str) -> str:
    """Put an unquoted encoded word that contains address specials (a comma in
    "=?iso-8859-1?Q?B=FCrling,=20Andreas?= <a@b>") in quotes, so splitting an address list
    cannot cut it in half. An encoded word directly before "@" is a local part: left alone."""

    def quote(m: re.Match[str]) -> str:
        word = m.group(0)
        if value[m.end():m.end() + 1] == "@" or not re.search(r'[,;:<>@"\\]', word):
            return word
        return '"' + word + '"'

    if "=?" not in value or '"=?' in value:
        return value
    return _WORD.sub(quote, value)


def decode_words(value: str) -> str:
    """Decode every encoded word in `value`; text that is not encoded stays as it is."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset = ""
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_charset)[0])
        pending, pending_charset = [], ""

    for m in _WORD.finditer(value):
        between = value[pos:m.start()]
        # whitespace between two encoded words is not part of the text (RFC 2047 6.2)
        if between and not (pending and between.isspace()):
            flush()
            out.append(between)
        charset = m.group(1).lower()
        if pending and charset != pending_charset:
            flush()
        pending_charset = charset
        pending.append(_word_bytes(m.group(2), m.group(3)))
        pos = m.end()
    flush()
    out.append(value[pos:])
    return "".join(out)
