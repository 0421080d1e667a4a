"""Compose outgoing RFC 5322 text.

Message-ID, In-Reply-To and References are written by hand, never RFC 2047-encoded and
never folded inside an ID: Python's policy.default folds long References in a way Outlook
ignores (CPython gh-100991), which breaks threading at the recipient.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

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
) -> str:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = formataddr((from_name, from_addr))
    msg["To"] = ", ".join(to)
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, cte="quoted-printable" if not body.isascii() else "7bit")
    head, _, tail = msg.as_string().partition("\r\n\r\n")
    ids = [f"Message-ID: <{message_id}>"]
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
