"""Compose outgoing RFC 5322 text.

Message-ID, In-Reply-To and References are written by hand, never RFC 2047-encoded and
never folded inside an ID: Python's policy.default folds long References in a way Outlook
ignores (CPython gh-100991), which breaks threading at the recipient. From: is written by
hand too, so the display name is always quoted ("Alice Smith via Helpdesk" <helpdesk@...>):
the library drops the quotes whenever it can, and filters people write match the quoted form.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from mailgate.safe_text import MAX_SUBJECT_LENGTH, clip, one_line, safe_filename

# 998 is RFC 5322's hard line limit; we never let the library fold below it
_POLICY = SMTP.clone(max_line_length=998)
_ID_HEADERS = ("Message-ID", "In-Reply-To", "References")
MAX_REFERENCES = 20
MAX_NAME_LENGTH = 200  # characters of a display name in From:


def new_message_id(domain: str, ticket_id: int | None = None) -> str:
    prefix = f"mailgate.{ticket_id}." if ticket_id else "mailgate."
    return f"{prefix}{uuid.uuid4().hex}@{domain}"


def _id_list(ids: list[str]) -> list[str]:
    """Keep the root and the most recent references: a client that keeps only the first or
    the last one still threads."""
    ids = list(dict.fromkeys(i for i in ids if i))
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1):]
    return ids


def display_from(name: str, address: str) -> str:
    """`"Alice Smith via Helpdesk" <helpdesk@example.com>`; RFC 2047 for non-ASCII names."""
    name = " ".join(clip(one_line(name), MAX_NAME_LENGTH).split())
    if not name:
        return f"<{address}>"
    if name.isascii():
        escaped = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{address}>'
    return f"{Header(name, 'utf-8').encode(maxlinelen=998)} <{address}>"


def compose(
    *,
    from_name: str,
    from_addr: str,
    to: list[str],
    subject: str,
    body: str,
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> str:
    """The full message text with CRLF line ends. `attachments` are (filename, content
    type, bytes); `html` adds a text/html alternative to the plain body.

    Every header value is made one line (no CR, LF or other line-breaking character: they
    would end the header, and the email package refuses them) and the subject is capped;
    the email package folds what is longer than a line, and a body line over 998 octets
    is sent quoted-printable. Attachments go out under safe base names (issue 17)."""
    top = [("To", ", ".join(one_line(a) for a in to))]
    if reply_to:
        top.append(("Reply-To", one_line(reply_to)))
    top += [("Subject", clip(one_line(subject), MAX_SUBJECT_LENGTH + 50)), ("Date", format_datetime(date)),
            *((name, clip(one_line(value), 900)) for name, value in (headers or {}).items())]
    attachments = [(safe_filename(name), content_type, data) for name, content_type, data in attachments]
    head_and_body = None
    if not html and not attachments:
        head_and_body = _plain_by_hand(top, to, reply_to, body)
    if head_and_body is None:
        head_and_body = _with_email_package(top, body, html, attachments)
    head, tail = head_and_body
    ids = [f"From: {display_from(from_name, from_addr)}", f"Message-ID: <{message_id}>"]
    if in_reply_to:
        ids.append(f"In-Reply-To: <{in_reply_to}>")
    refs = _id_list(references or [])
    if refs:
        # folded between IDs only, each continuation line starting with a space
        ids.append("References: " + "\r\n ".join(f"<{r}>" for r in refs))
    return head + "\r\n" + "\r\n".join(ids) + "\r\n\r\n" + tail


def _with_email_package(top: list[tuple[str, str]], body: str, html: str | None,
                        attachments: Sequence[tuple[str, str, bytes]]) -> tuple[str, str]:
    msg = EmailMessage(policy=_POLICY)
    for name, value in top:
        msg[name] = value
    long_lines = any(len(line) > 998 for line in body.splitlines())  # RFC 5322's limit for 7bit
    msg.set_content(body, cte="quoted-printable" if long_lines or not body.isascii() else "7bit")
    if html:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        if not subtype or maintype == "multipart":
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    head, _, tail = msg.as_string().partition("\r\n\r\n")
    return head, tail


# What the email package writes unchanged: a bare address; a header value of printable ASCII
# without leading/trailing blanks or encoded-word markers, on one line shorter than the
# fold limit. Anything else takes the email package's path.
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")
_PLAIN_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
_PLAIN_HEAD = ('Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 7bit", "MIME-Version: 1.0")


def _plain_by_hand(top: list[tuple[str, str]], to: list[str], reply_to: str | None,
                   body: str) -> tuple[str, str] | None:
    """The plain-text, ASCII-only case (most acknowledgements and alerts) written directly:
    byte for byte what `_with_email_package` writes for it (tests/bench/test_compose_by_hand.py),
    at a fifth of the cost. None when the message is not that simple."""
    if not to or not body.isascii() or not all(_BARE_ADDRESS.fullmatch(a) for a in to) or (
            reply_to and not _BARE_ADDRESS.fullmatch(reply_to)):
        return None
    lines = []
    for name, value in top:
        line = f"{name}: {value}"
        if not _PLAIN_VALUE.fullmatch(value) or "=?" in value or len(line) > 900:
            return None
        lines.append(line)
    body_lines = body.encode("ascii").splitlines()  # bytes: only CR, LF and CRLF end a line
    if any(len(b) > 900 for b in body_lines):
        return None
    return "\r\n".join([*lines, *_PLAIN_HEAD]), "\r\n".join(b.decode("ascii") for b in body_lines) + "\r\n"


def id_headers_ok(text: str) -> bool:
    """True when no ID header is RFC 2047-encoded (used by tests and by the sender)."""
    for line in text.split("\r\n\r\n", 1)[0].split("\r\n"):
        if line.split(":", 1)[0] in _ID_HEADERS and "=?" in line:
            return False
    return True
