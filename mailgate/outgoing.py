"""Compose outgoing RFC 5322 text.

Message-ID, In-Reply-To and References are written by hand, never RFC 2047-encoded and
never folded inside an ID: Python's policy.default folds long References in a way Outlook
ignores (CPython gh-100991), which breaks threading at the recipient. From: is written by
hand too, so the display name is always quoted ("Alice Smith via Helpdesk" <helpdesk@...>):
the library drops the quotes whenever it can, and filters people write match the quoted form.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

# 998 is RFC 5322's hard line limit; we never let the library fold below it
_POLICY = SMTP.clone(max_line_length=998)
_ID_HEADERS = ("Message-ID", "In-Reply-To", "References")
MAX_REFERENCES = 20


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
    name = " ".join(name.replace("\r", " ").replace("\n", " ").split())
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
    type, bytes); `html` adds a text/html alternative to the plain body."""
    msg = EmailMessage(policy=_POLICY)
    msg["To"] = ", ".join(to)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, cte="quoted-printable" if not body.isascii() else "7bit")
    if html:
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        if not subtype or maintype == "multipart":
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename or "attachment")
    head, _, tail = msg.as_string().partition("\r\n\r\n")
    ids = [f"From: {display_from(from_name, from_addr)}", f"Message-ID: <{message_id}>"]
    if in_reply_to:
        ids.append(f"In-Reply-To: <{in_reply_to}>")
    refs = _id_list(references or [])
    if refs:
        # folded between IDs only, each continuation line starting with a space
        ids.append("References: " + "\r\n ".join(f"<{r}>" for r in refs))
    return head + "\r\n" + "\r\n".join(ids) + "\r\n\r\n" + tail


def id_headers_ok(text: str) -> bool:
    """True when no ID header is RFC 2047-encoded (used by tests and by the sender)."""
    for line in text.split("\r\n\r\n", 1)[0].split("\r\n"):
        if line.split(":", 1)[0] in _ID_HEADERS and "=?" in line:
            return False
    return True
