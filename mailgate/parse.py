"""Parse raw bytes into a ParsedMessage, a plain data object the later stages share.

mail-parser does the MIME walking and body/attachment decoding; this module is the small
interface around it so no other stage depends on mail-parser's dict shapes. The raw bytes
are never replaced by the parse: the spool keeps them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime

import mailparser

_MSGID_RE = re.compile(r"<([^<>\s]+)>")
# trace headers added per hop: excluded from the content hash so the same message
# relayed twice (or fetched by IMAP and piped by the MTA) is recognised as one
_TRACE_HEADERS = {"received", "return-path", "delivered-to", "x-original-to", "x-delivered-to"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    payload: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str
    subject: str
    from_addr: str
    from_name: str
    to: tuple[tuple[str, str], ...]
    cc: tuple[tuple[str, str], ...]
    reply_to: tuple[tuple[str, str], ...]
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    headers: tuple[tuple[str, str], ...]
    text_plain: str
    text_html: str
    attachments: tuple[Attachment, ...]
    content_hash: str
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def recipients(self) -> list[str]:
        return [a for _, a in self.to + self.cc if a]


def message_ids(value: str | None) -> tuple[str, ...]:
    """Message-IDs in a header value, in order, without angle brackets."""
    if not value:
        return ()
    found = _MSGID_RE.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return tuple(dict.fromkeys(found))


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words; leave undecodable text as it is rather than fail."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeDecodeError, ValueError):
        return value


def _addresses(values: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for name, addr in getaddresses([decode_words(v) if "=?" in v and "@" not in v.split("=?")[0] else v for v in values]):
        addr = addr.strip().lower()
        if addr or name:
            out.append((decode_words(name).strip(), addr))
    return tuple(out)


def content_hash(raw: bytes) -> str:
    """SHA-256 of the message without per-hop trace headers."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    kept: list[bytes] = []
    skipping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        skipping = name in _TRACE_HEADERS
        if not skipping:
            kept.append(line)
    h = hashlib.sha256()
    h.update(b"".join(kept))
    h.update(sep)
    h.update(body)
    return h.hexdigest()


def _payload_bytes(att: dict) -> bytes:
    payload = att.get("payload") or ""
    if att.get("binary"):
        try:
            return base64.b64decode(payload)
        except (ValueError, TypeError):
            return payload.encode("utf-8", "surrogateescape")
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else bytes(payload)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes. Raises ValueError on input that is not a message at all."""
    if not raw.strip():
        raise ValueError("empty message")
    head = raw[:8192].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    if not re.search(rb"^[!-9;-~]+:", head, re.M):
        raise ValueError("no RFC 5322 header block found")
    mail = mailparser.parse_from_bytes(raw)
    msg = mail.message
    headers = tuple((k, decode_words(str(v))) for k, v in msg.items())
    chash = content_hash(raw)
    ids = message_ids(msg.get("Message-ID"))
    # a message without a Message-ID still needs a stable key: derive it from the content
    message_id = ids[0] if ids else f"{chash[:32]}@no-message-id.mailgate.invalid"
    attachments = tuple(
        Attachment(
            filename=decode_words(a.get("filename") or ""),
            content_type=(a.get("mail_content_type") or "application/octet-stream").lower(),
            payload=_payload_bytes(a),
            content_id=(a.get("content-id") or "").strip().strip("<>"),
            inline=(a.get("content-disposition") or "").lower().startswith("inline")
            or bool(a.get("content-id")),
        )
        for a in mail.attachments
    )
    defects = tuple(str(d) for group in mail.defects for values in group.values() for d in values)
    return ParsedMessage(
        message_id=message_id,
        subject=decode_words(str(msg.get("Subject", "") or "")).replace("\n", " ").replace("\r", "").strip(),
        from_addr=(_addresses(msg.get_all("From", []))[:1] or (("", ""),))[0][1],
        from_name=(_addresses(msg.get_all("From", []))[:1] or (("", ""),))[0][0],
        to=_addresses(msg.get_all("To", [])),
        cc=_addresses(msg.get_all("Cc", [])),
        reply_to=_addresses(msg.get_all("Reply-To", [])),
        in_reply_to=message_ids(msg.get("In-Reply-To")),
        references=message_ids(msg.get("References")),
        date=_date(msg.get("Date")),
        headers=headers,
        text_plain=mail.text_plain and "\n".join(mail.text_plain) or "",
        text_html=mail.text_html and "\n".join(mail.text_html) or "",
        attachments=attachments,
        content_hash=chash,
        defects=defects,
    )
