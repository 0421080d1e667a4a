"""Mail as the tests' requesters write it."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate

TOKEN_RE = r"helpdesk\+t(\d+)p(\d+)-[0-9a-z]+@example\.com"


def mail(sender: str, subject: str, message_id: str, body: str = "It prints blank pages.",
         to: str = "helpdesk@example.com", in_reply_to: str = "", headers: tuple[str, ...] = ()) -> bytes:
    """`headers`: raw header lines put on top, as a forger would write them (folding kept)."""
    lines = [*headers, f"From: {sender.split('@')[0].title()} <{sender}>", f"To: {to}", f"Subject: {subject}",
             f"Date: {formatdate()}", f"Message-ID: {message_id}", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=utf-8"]
    if in_reply_to:
        lines += [f"In-Reply-To: {in_reply_to}", f"References: {in_reply_to}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def reply_address(msg: EmailMessage) -> str:
    """The signed Reply-To of a mail we sent, checked for the documented form."""
    [address] = [a.addr_spec for a in msg["Reply-To"].addresses]
    assert re.fullmatch(TOKEN_RE, address), address
    return address


def assert_documented_headers(msg: EmailMessage, ticket: int, auto_submitted: str) -> None:
    """docs/commands.md, "Header layout": what every mail we send carries."""
    assert msg["Subject"].startswith(f"[Helpdesk #{ticket}] "), msg["Subject"]
    assert msg["Auto-Submitted"] == auto_submitted
    assert msg["X-Loop"] == "helpdesk@example.com"
    assert msg["X-Mailgate-Ticket"] == str(ticket)
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Message-ID"].startswith(f"<mailgate.{ticket}.")
    assert re.fullmatch(TOKEN_RE, reply_address(msg)).group(1) == str(ticket)  # type: ignore[union-attr]
