"""Split the author's own text into body and signature / mobile footer / disclaimer.

We use talon's brute-force extractor (`talon.signature.bruteforce.extract_signature`) for the
classic "Thanks,\\nName" and "--\\nName" endings. We deliberately do NOT call `talon.init()` or
`talon.signature.extract()`: those load talon's pickled scikit-learn classifier, which fails to
unpickle on current scikit-learn releases. What talon lacks (the "-- " delimiter anywhere in the
tail, non-English sign-offs and mobile footers, configured disclaimers) is added here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

# "Sent from my iPhone", "Get Outlook for iOS", "Von meinem iPhone gesendet" ... Only short
# lines count (a sentence like "Sent from my desk, is much easier..." is text).
_MOBILE_PREFIXES = (
    r"sent from", r"sent with", r"sent via", r"sent using", r"get outlook for",
    r"envoyé de mon", r"envoyé depuis", r"envoyé à partir de", r"envoyé avec",
    r"gesendet von", r"gesendet mit", r"von meinem .{1,30} gesendet", r"enviado desde",
    r"enviado do meu", r"enviado de meu", r"enviado con", r"inviato da", r"inviato con",
    r"verzonden vanaf", r"verstuurd vanaf", r"verzonden met", r"skickat från", r"sendt fra",
    r"wysłane z", r"отправлено с", r"отправлено из", r"надіслано з", r"lähetetty",
    r"küldve", r"odesláno z", r"从我的", r"發自我的", r"送信元", r"iPhoneから送信",
)
_RE_MOBILE = re.compile(r"^\s*(?:{})\b".format("|".join(_MOBILE_PREFIXES)), re.I)
_RE_ANGLE_URL = re.compile(r"<[^<>\s]+>|\(https?://[^)\s]+\)")
_MOBILE_MAX_LEN = 60

# "-- " is the standard delimiter (RFC 3676); "--" and "______" (mailing-list footers) too.
_RE_DELIMITER = re.compile(r"^(?:--|-- |_{2,})\s*$")

# Sign-off words talon's regex does not know; a line made only of one of them.
_SIGN_OFFS = (
    "kind regards", "best regards", "warm regards", "regards", "sincerely", "thank you",
    "many thanks", "thanks", "cheers", "best", "mit freundlichen grüßen", "mit freundlichen grüssen",
    "viele grüße", "beste grüße", "liebe grüße", "gruß", "grüße", "cordialement", "bien cordialement",
    "salutations", "bien à vous", "saludos", "saludos cordiales", "atentamente", "cordiali saluti",
    "saluti", "distinti saluti", "met vriendelijke groet", "met vriendelijke groeten", "groeten",
    "mvh", "med vennlig hilsen", "med venlig hilsen", "venlig hilsen", "med vänliga hälsningar",
    "vänliga hälsningar", "hälsningar", "ystävällisin terveisin", "terveisin", "pozdrawiam",
    "z poważaniem", "с уважением", "з повагою", "atenciosamente", "cumprimentos", "abraços",
    "üdvözlettel", "s pozdravem", "salutacions", "此致", "よろしくお願いします",
)
_RE_SIGN_OFF = re.compile(
    r"^\s*(?:{})\s*[,.!]*\s*$".format("|".join(re.escape(s) for s in _SIGN_OFFS)), re.I
)
_SIGN_OFF_MAX_TAIL = 6  # non-empty lines a signature may have after the sign-off
_TAIL_LINE_MAX_LEN = 60


@functools.cache
def _bruteforce() -> Any:
    """talon's regex-only signature extractor, imported on first use without talon's ML
    model and scikit-learn (mailgate/clean/talon_modules.py says why)."""
    from mailgate.clean.talon_modules import talon_module

    return talon_module("talon.signature.bruteforce").extract_signature


def is_mobile_footer(line: str) -> bool:
    stripped = _RE_ANGLE_URL.sub("", line).strip()
    if not stripped or len(stripped) > _MOBILE_MAX_LEN:
        return False
    if not _RE_MOBILE.match(stripped):
        return False
    # A sentence ("Sent from my desk, is much easier ...") ends with punctuation or has commas.
    return not re.search(r"[,;.!?]\s|[.!?]$", stripped)


def _split_at_line(lines: list[str], idx: int) -> tuple[str, str]:
    return "\n".join(lines[:idx]).rstrip(), "\n".join(lines[idx:]).strip("\n")


def _cut_disclaimers(text: str, disclaimers: Sequence[str]) -> tuple[str, str]:
    """Configured disclaimers: cut from the start of the line holding the match to the end."""
    best = len(text)
    for pattern in disclaimers:
        m = re.search(pattern, text, re.I | re.M | re.S)
        if m:
            best = min(best, text.rfind("\n", 0, m.start()) + 1)
    if best >= len(text):
        return text, ""
    return text[:best].rstrip(), text[best:].strip("\n")


def _cut_delimiter(lines: list[str]) -> int:
    """Index of the first "-- " / "____" line that is not the first line, else -1."""
    for i, line in enumerate(lines):
        if i > 0 and _RE_DELIMITER.match(line):
            return i
    return -1


def _cut_mobile(lines: list[str]) -> int:
    """A mobile footer near the end, followed only by short lines."""
    for i in range(len(lines) - 1, 0, -1):
        if is_mobile_footer(lines[i]):
            tail = [t for t in lines[i + 1 :] if t.strip()]
            if len(tail) <= 3 and all(len(t) <= _TAIL_LINE_MAX_LEN for t in tail):
                return i
            return -1
    return -1


def _cut_sign_off(lines: list[str]) -> int:
    """A non-English (or talon-unknown) sign-off line followed by a short signature."""
    non_empty = [i for i, line in enumerate(lines) if line.strip()]
    for i in non_empty[1:]:
        if _RE_SIGN_OFF.match(lines[i]):
            tail = [t for t in lines[i + 1 :] if t.strip()]
            if len(tail) <= _SIGN_OFF_MAX_TAIL and all(len(t) <= _TAIL_LINE_MAX_LEN for t in tail):
                return i
    return -1


def split_signature(text: str, disclaimers: Sequence[str] = ()) -> tuple[str, str]:
    """Return (body, signature). The signature keeps every removed line, in order."""
    parts: list[str] = []
    body, disclaimer = _cut_disclaimers(text, disclaimers)
    if disclaimer:
        parts.append(disclaimer)

    lines = body.split("\n")
    for finder in (_cut_mobile, _cut_delimiter):
        idx = finder(lines)
        if idx > 0:
            body, sig = _split_at_line(lines, idx)
            parts.insert(0, sig)
            lines = body.split("\n")

    stripped, sig = _bruteforce()(body)
    if sig and stripped.strip() and body.rstrip().endswith(sig.strip()):
        # talon returns the body .strip()ped; keep our own line structure instead.
        body = body.rstrip()[: -len(sig.strip())].rstrip()
        parts.insert(0, sig.strip())
        lines = body.split("\n")

    idx = _cut_sign_off(lines)
    if idx > 0:
        body, sig = _split_at_line(lines, idx)
        parts.insert(0, sig)

    return body.rstrip(), "\n\n".join(p.strip("\n") for p in parts if p.strip())
