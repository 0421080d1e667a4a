"""Walk a parsed MIME tree: body text, every other part as an attachment, delivery reports.

mail-parser gives us the message tree; its own body decoding drops bytes it cannot decode
(errors="ignore"), so the leaves are decoded here with mailgate.charsets instead. Nothing
that is not body text is thrown away: inline images with or without Content-Disposition,
attached messages, uuencoded blocks inside text and the files inside winmail.dat all
become attachments.
"""

from __future__ import annotations

import binascii
import email.message
import io
import mimetypes
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.policy import compat32

from mailgate.charsets import decode_bytes, decode_hinted
from mailgate.core.message import Attachment, DeliveryReport
from mailgate.encoded_words import decode_words
from mailgate.safe_text import unfold


@dataclass
class Walk:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    delayed: list[str] = field(default_factory=list)
    original_headers: list[tuple[str, str]] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)
    hints: tuple[str, ...] = ()  # the message's declared charsets, for raw 8-bit file names

    @property
    def report(self) -> DeliveryReport | None:
        if not (self.failed or self.delayed or self.original_headers):
            return None
        return DeliveryReport(tuple(dict.fromkeys(self.failed)), tuple(dict.fromkeys(self.delayed)),
                              tuple(self.original_headers))


_UU_BLOCK = re.compile(r"^begin [0-7]{3,4} ([^\r\n]+)\r?\n(.*?)^end[ \t]*\r?$\n?", re.M | re.S)
# an HTML part without a MIME charset may still name one in a <meta> tag
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.I)
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")
_MAX_DEPTH = 40  # deeper nesting is a parser bomb, not a mail: the rest is kept as bytes


def guess_type(filename: str) -> str:
    """Content type for a file that came without one (uuencoded, inside winmail.dat)."""
    return mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"


def _as_bytes(part: email.message.Message) -> bytes:
    """A part's bytes as they came (8-bit bytes kept through surrogate escapes). A part whose
    text was changed to real non-ASCII (a repaired header) is written as UTF-8 instead."""
    buf = io.BytesIO()
    try:
        BytesGenerator(buf, mangle_from_=False, policy=compat32).flatten(part)
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - damaged headers refuse to be re-folded: write them as they are
        head = "".join(f"{k}: {v}\n" for k, v in part.raw_items()).encode("utf-8", "surrogateescape")
        payload = part.get_payload()
        if isinstance(payload, list):
            return head + b"\n" + b"\n".join(_as_bytes(sub) for sub in payload)
        return head + b"\n" + str(payload).encode("utf-8", "surrogateescape")


def _repair_8bit_params(part: email.message.Message, hints: tuple[str, ...]) -> None:
    """Raw 8-bit bytes in Content-Type/-Disposition (a file name written in UTF-8 or a local
    charset without RFC 2231) reach us as surrogate escapes: decode them like header text."""
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition") and isinstance(value, str) \
                and any("\udc80" <= c <= "\udcff" for c in value):
            part.replace_header(name, decode_hinted(value.encode("ascii", "surrogateescape"), hints))


def _filename(part: email.message.Message, hints: tuple[str, ...] = ()) -> str:
    _repair_8bit_params(part, hints)
    try:
        name = part.get_filename()
    except (TypeError, ValueError, LookupError):  # broken RFC 2231 parameters
        name = None
    if name is None:
        name = part.get_param("name")
        if isinstance(name, tuple):  # RFC 2231 on the Content-Type name parameter
            name = email.utils.collapse_rfc2231_value(name)
    # a name folded over two lines (normal RFC 5322 folding) keeps no line break (issue 17)
    return decode_words(unfold(str(name))).strip() if name else ""


def _payload(part: email.message.Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, TypeError, binascii.Error):
        data = None
    if data is None:
        raw = part.get_payload()
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return data


def _uudecode(block: str) -> bytes:
    out = bytearray()
    for line in block.splitlines():
        line = line.rstrip("\r")
        if not line or line in ("`", " "):
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            # some encoders pad badly: decode the length the first character announces
            nbytes = ((ord(line[0]) - 32) & 63) * 4 // 3 + 3
            out += binascii.a2b_uu(line[:nbytes // 4 * 4 + 1].ljust(1))
    return bytes(out)


def split_uuencoded(text: str) -> tuple[str, list[Attachment]]:
    """Cut `begin 644 name … end` blocks out of plain text into attachments."""
    found: list[Attachment] = []

    def cut(m: re.Match[str]) -> str:
        try:
            name = m.group(1).strip()
            found.append(Attachment(name, guess_type(name), _uudecode(m.group(2))))
        except (ValueError, IndexError):  # binascii.Error is a ValueError
            return m.group(0)  # not really uuencoded: leave the text as it was
        return ""

    if "begin " not in text:
        return text, []
    return _UU_BLOCK.sub(cut, text), found


def _tnef_files(data: bytes) -> list[Attachment]:
    try:
        from tnefparse import TNEF
    except ImportError:  # optional: winmail.dat is then kept as it is
        return []
    try:
        tnef = TNEF(data)
    except Exception:  # noqa: BLE001 - a damaged winmail.dat is still kept whole
        return []
    files = []
    for a in tnef.attachments:
        if a.data:
            name = a.long_filename() or a.name or ""
            files.append(Attachment(name, guess_type(name), bytes(a.data)))
    return files


def _delivery_status(part: email.message.Message, walk: Walk) -> None:
    blocks = part.get_payload()
    if isinstance(blocks, str):  # not parsed into blocks: split ourselves
        from email.parser import Parser

        blocks = [Parser(policy=compat32).parsestr(b) for b in re.split(r"\r?\n\r?\n", blocks) if b.strip()]
    for block in blocks if isinstance(blocks, list) else []:
        recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
        action = str(block.get("Action") or "").strip().lower()
        address = recipient.split(";", 1)[-1].strip().strip("<>").lower()
        if "@" not in address:
            continue
        if action == "failed":
            walk.failed.append(address)
        elif action == "delayed":
            walk.delayed.append(address)


def _header_pairs(msg: email.message.Message) -> list[tuple[str, str]]:
    return [(k, decode_words(str(v))) for k, v in msg.items()]


def _has_alternative(parents: tuple[str, ...]) -> bool:
    return "multipart/alternative" in parents or "multipart/related" in parents


def visit(part: email.message.Message, walk: Walk, parents: tuple[str, ...] = ()) -> None:
    """Collect `part` into `walk`; `parents` are the content types of the enclosing parts."""
    ctype = part.get_content_type()[:100]
    if len(parents) > _MAX_DEPTH:
        walk.attachments.append(Attachment("", ctype, _as_bytes(part)))
        return
    if _container(part, walk, parents, ctype):
        return
    data = _payload(part)
    filename = _filename(part, walk.hints)
    disposition = part.get_content_disposition()
    if ctype in ("text/rfc822-headers", "message/rfc822-headers"):
        text, _ = decode_bytes(data, part.get_content_charset())
        from email.parser import Parser

        walk.original_headers += _header_pairs(Parser(policy=compat32).parsestr(text, headersonly=True))
    elif part.get_content_maintype() == "multipart" or (
            ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
            and not (ctype == "text/html" and walk.html and _has_alternative(parents))):
        # a multipart without parts (broken boundary) is read as text rather than lost. A
        # second HTML part next to a text alternative (Apple Mail's fragments around an
        # attachment) is kept as a file below; in a plain multipart/mixed it is more body.
        _body_text(part, walk, data, ctype)
        return
    _file(part, walk, data, ctype, filename, disposition)


def _container(part: email.message.Message, walk: Walk, parents: tuple[str, ...], ctype: str) -> bool:
    """An attached message, a delivery status or a multipart: handled here (True)."""
    if ctype in ("message/rfc822", "message/global") and isinstance(part.get_payload(), list) \
            and part.get_payload():
        inner = part.get_payload(0)
        if "multipart/report" in parents:
            walk.original_headers += _header_pairs(inner)
        title = decode_words(str(inner.get("Subject") or "")).strip() or "message"
        name = _filename(part, walk.hints) or re.sub(r'[\\/:*?"<>|\r\n]+', "_", title)[:120] + ".eml"
        walk.attachments.append(Attachment(name, "message/rfc822", _as_bytes(inner)))
        return True
    if ctype == "message/delivery-status":
        _delivery_status(part, walk)
        walk.attachments.append(Attachment("", ctype, _as_bytes(part).split(b"\n\n", 1)[-1]))
        return True
    if part.is_multipart():
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            visit(sub, walk, (*parents, ctype))
        return True
    return False


def _body_text(part: email.message.Message, walk: Walk, data: bytes, ctype: str) -> None:
    declared = part.get_content_charset()
    if declared is None and ctype == "text/html":
        m = _META_CHARSET.search(data[:4096])
        declared = m.group(1).decode("ascii") if m else None
    text, used = decode_bytes(data, declared)
    walk.charsets.append(used)
    if ctype == "text/html":
        walk.html.append(text)
        return
    text, uu = split_uuencoded(text)
    walk.attachments += uu
    walk.plain.append(text)


def _file(part: email.message.Message, walk: Walk, data: bytes, ctype: str, filename: str,
          disposition: str | None) -> None:
    content_id = str(part.get("Content-ID") or "").strip().strip("<>")[:250]
    if not filename and content_id and re.fullmatch(r"[\w.-]+\.\w{2,4}", content_id.split("@")[0]):
        filename = content_id.split("@")[0]  # Outlook names inline images only in the cid
    if not filename and ctype == "text/html":
        filename = "document.html"
    if ctype in _TNEF_TYPES or filename.lower() == "winmail.dat":
        walk.attachments += _tnef_files(data)
    if ctype == "application/octet-stream" and str(part.get("Content-Transfer-Encoding") or "").lower() in (
            "x-uuencode", "uuencode", "x-uue"):
        # Python decodes x-uuencode itself; the file name sits on the begin line
        m = re.search(rb"^begin [0-7]{3,4} ([^\r\n]+)", part.get_payload().encode("latin-1", "replace"), re.M)
        filename = filename or (m.group(1).decode("latin-1").strip() if m else "")
    walk.attachments.append(Attachment(
        filename, ctype, data, content_id,
        inline=disposition == "inline" or (disposition is None and bool(content_id)),
    ))
