"""Parse raw bytes into a ParsedMessage, a plain data object the later stages share.

The standard library builds the MIME tree (as mail-parser does; mail-parser describes the
defects of damaged mail); mailgate.mimeparts walks it (decoding with
mailgate.charsets, so no bytes are silently dropped) and this module reads the top-level
header block straight from the raw bytes: 8-bit headers (RFC 6532 UTF-8, or legacy
charsets) are decoded by detection instead of becoming mojibake. The raw bytes are never
replaced by the parse: the spool keeps them.
"""

from __future__ import annotations

import email
import email.message
import hashlib
import re
from dataclasses import replace
from datetime import UTC, datetime
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

import mailparser

from mailgate.charsets import charset_hints, decode_hinted
from mailgate.core.message import Attachment, DeliveryReport, ParsedMessage
from mailgate.encoded_words import decode_words, quote_words_in_names
from mailgate.mime_limits import DEFAULT_MAX_DEPTH, DEFAULT_MAX_PARTS, check_structure
from mailgate.mimeparts import Walk, visit
from mailgate.safe_text import MAX_SUBJECT_LENGTH, clip, one_line, stored_filename

__all__ = ["Attachment", "DeliveryReport", "ParsedMessage", "content_hash", "decode_words",
           "message_ids", "parse_headers", "parse_message"]

_MSGID_RE = re.compile(r"<([^<>\s]+)>")
# trace headers added per hop: excluded from the content hash so the same message
# relayed twice (or fetched by IMAP and piped by the MTA) is recognised as one
_TRACE_HEADERS = {"received", "return-path", "delivered-to", "x-original-to", "x-delivered-to"}
_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


MAX_ID_LENGTH = 250  # the store's Message-ID column holds 255 characters


def _storable_id(mid: str) -> str:
    """Spam and broken mailers send Message-IDs of any length; a longer one is stored as a
    stable hash of itself, so the same message and replies to it still match."""
    if len(mid) <= MAX_ID_LENGTH:
        return mid
    return f"{hashlib.sha256(mid.encode('utf-8', 'surrogateescape')).hexdigest()[:40]}@long-id.mailgate.invalid"


def message_ids(value: str | None) -> tuple[str, ...]:
    """Message-IDs in a header value, in order, without angle brackets."""
    if not value:
        return ()
    found = _MSGID_RE.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]
    return tuple(dict.fromkeys(_storable_id(m) for m in found))


def _stored(a: Attachment) -> Attachment:
    """The name as stored: unfolded, capped (mailgate.safe_text), no NUL."""
    name = no_nul(stored_filename(a.filename))
    return a if name == a.filename else replace(a, filename=name)


def no_nul(text: str) -> str:
    """NUL characters become U+FFFD: PostgreSQL text cannot hold them, and no mail client
    shows them; the raw bytes in the spool still have them."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _split_head(raw: bytes) -> tuple[bytes, bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(sep)
        if found:
            return head, found, body
    return raw, b"", b""


def parse_headers(raw: bytes) -> list[tuple[str, str]]:
    """The top-level header fields as (name, value), unfolded, 8-bit bytes decoded but
    RFC 2047 words still encoded (address parsing must see them encoded)."""
    head = raw[:1_000_000]
    cut = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    fields: list[tuple[str, bytes]] = []
    for line in re.split(rb"\r?\n", head[:cut]):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + b" " + line.strip())
            continue
        m = _HEADER_NAME.match(line)
        if m:  # anything else (an mbox "From " line, garbage) is not a header field
            fields.append((m.group(1).decode("ascii"), line[m.end():].strip()))
    hints = charset_hints(raw) if any(not value.isascii() for _, value in fields) else ()
    return [(name, no_nul(decode_hinted(value, hints))) for name, value in fields]


def _addresses(values: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    # encoded words are decoded after splitting, so an encoded comma or "@" in a display
    # name (or an encoded local part meant to spoof an address) cannot change the split
    for name, addr in getaddresses([quote_words_in_names(v) for v in values]):
        addr = _clean_address(addr)
        if addr or name:
            out.append((one_line(decode_words(name)).strip()[:200], addr))
    return tuple(out)


def _clean_address(addr: str) -> str:
    """Lower case, no white space or stray brackets; '"bob"@x' becomes 'bob@x' when the
    quotes were not needed, so the same person is one Person row."""
    addr = re.sub(r"\s+", "", addr).strip("<>").lower()
    if len(addr) > 254:  # longer than RFC 5321 allows: no mail can reach it anyway
        return f"{hashlib.sha256(addr.encode('utf-8', 'surrogateescape')).hexdigest()[:16]}@too-long.invalid"
    local, at, domain = addr.rpartition("@")
    if at and local.startswith('"') and local.endswith('"') and re.fullmatch(r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+", local[1:-1]):
        addr = f"{local[1:-1]}@{domain}"
    return addr


def _sender(fields: list[tuple[str, str]]) -> tuple[str, str]:
    """Whom to answer: the first real address in From, else Sender, Reply-To, Return-Path
    (spam and some gateways send no From at all; the ticket still needs a requester)."""
    for header in ("from", "sender", "reply-to", "return-path"):
        values = [v for k, v in fields if k.lower() == header]
        found = [(n, a) for n, a in _addresses(values) if "@" in a]
        if found:
            return found[0]
    names = _addresses([v for k, v in fields if k.lower() == "from"])
    return names[0] if names else ("", "")


def content_hash(raw: bytes) -> str:
    """SHA-256 of the message without per-hop trace headers."""
    head, sep, body = _split_head(raw)
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


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _mime_tree(raw: bytes) -> tuple[email.message.Message, tuple[str, ...]]:
    """The MIME tree and, for damaged mail, mail-parser's account of the damage.

    The tree is the standard library's compat32 parse, which is exactly the tree mail-parser
    builds (`MailParser.from_bytes` is `email.message_from_bytes` plus a RecursionError
    guard, kept here). mail-parser's own extraction of every part is not used for the body
    (mailgate.mimeparts decodes without dropping bytes) and costs twice the tree itself
    (0.25 of 0.39 CPU ms a message on bench/corpus.py's mail), so it runs only when the
    standard parser reports defects, to describe them. mail-parser raising on some damaged
    mail the standard parser reads fine never sends the message to the quarantine."""
    try:
        tree = email.message_from_bytes(raw, policy=compat32)
    except RecursionError as exc:  # a hostile nesting depth: refused with a clear reason
        raise ValueError("MIME structure nested too deeply to parse") from exc
    if not any(part.defects for part in tree.walk()):
        return tree, ()
    try:
        mail = mailparser.MailParser(tree)
    except Exception as exc:  # noqa: BLE001 - describing the damage is best effort
        return tree, (f"mail-parser: {type(exc).__name__}: {exc}", *(str(d) for d in tree.defects))
    return tree, tuple(str(d) for group in mail.defects for values in group.values() for d in values)


def looks_like_message(raw: bytes) -> bool:
    head = raw[:8192].split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    # obsolete syntax (RFC 5322 4.5) allows white space before the colon
    return re.search(rb"^[!-9;-~]+[ \t]*:", head, re.M) is not None


def parse_message(raw: bytes, *, headers_only: bool = False, max_depth: int = DEFAULT_MAX_DEPTH,
                  max_parts: int = DEFAULT_MAX_PARTS) -> ParsedMessage:
    """Parse raw RFC 5322 bytes. Raises ValueError on input that is not a message at all,
    and MimeLimitExceeded (a ValueError) on a MIME structure deeper than max_depth or with
    more than max_parts parts, before the expensive parse. headers_only skips the body (a
    message refused for its size is still answered)."""
    if not raw.strip():
        raise ValueError("empty message")
    if not looks_like_message(raw):
        raise ValueError("no RFC 5322 header block found")
    fields = parse_headers(raw)

    def all_of(name: str) -> list[str]:
        return [v for k, v in fields if k.lower() == name.lower()]

    def first(name: str) -> str | None:
        values = all_of(name)
        return values[0] if values else None

    walk, defects = Walk(hints=charset_hints(raw)), ()
    if not headers_only:
        check_structure(raw, max_depth, max_parts)
        tree, defects = _mime_tree(raw)
        visit(tree, walk)
    chash = content_hash(raw)
    ids = message_ids(first("Message-ID"))
    # a message without a Message-ID still needs a stable key: derive it from the content
    message_id = ids[0] if ids else f"{chash[:32]}@no-message-id.mailgate.invalid"
    sender = _sender(fields)
    return ParsedMessage(
        message_id=message_id,
        subject=clip(one_line(decode_words(first("Subject") or "")).strip(), MAX_SUBJECT_LENGTH),
        from_addr=sender[1],
        from_name=sender[0],
        to=_addresses(all_of("To")),
        cc=_addresses(all_of("Cc")),
        reply_to=_addresses(all_of("Reply-To")),
        in_reply_to=message_ids(first("In-Reply-To")),
        references=message_ids(" ".join(all_of("References"))),
        date=_date(first("Date")),
        headers=tuple((k, decode_words(v)) for k, v in fields),
        text_plain=no_nul("\n".join(walk.plain)),
        text_html=no_nul("\n".join(walk.html)),
        attachments=tuple(_stored(a) for a in walk.attachments),
        content_hash=chash,
        defects=defects,
        report=walk.report,
        charsets=tuple(dict.fromkeys(walk.charsets)),
        size=len(raw),
    )
